"""One tiny, compiled instance of every public model, for `test_contract`.

`CASES` maps each class name in `kgen.models.__all__` (but
`GenerativeModel`), and `Class[variant]` for a class run again on another
network (`DiffusionModel[dit]`: the same contract on a DiT denoiser;
`DiffusionModel[video]` on clips), to a builder returning a `Case`: the
model, a few examples to fit on, and what `sample` needs to be cheap.
The networks are the family tests' own, shrunk to 4x4 images, 4 filters
and 8 seeded examples, since every case compiles a training step on
every backend.
The tests fit each model before sampling it (an `Autoencoder` samples from
the Gaussian fitted to its codes).
"""

import dataclasses

import keras
import numpy as np

import kgen
from kgen import bijectors
from kgen import schedulers

SHAPE = (4, 4, 1)
LOW_SHAPE = (2, 2, 1)
LATENT_DIM = 4
NUM_EXAMPLES = 8
NUM_CLASSES = 3
SCHEDULE = {"num_train_timesteps": 4, "beta_end": 0.3}
DIFFUSION_SAMPLING = {"num_steps": 2, "scheduler": "ddim"}


@dataclasses.dataclass
class Case:
    """A model with the data and arguments the contract tests need.

    Attributes:
        model: the built, compiled model.
        x: numpy array, the training examples.
        y: numpy array or `None`: labels (`conditional`) or the paired
            targets (`paired`).
        sample_kwargs: dict making `sample` cheap (`num_steps`, `length`).
        sample_shape: shape of one sample, or `None` for `model.data_shape`.
        integer_samples: bool. Samples are integer levels or tokens.
        paired: bool. `sample` translates `condition=` (examples of `x`).
        conditional: bool. Class-conditional: `y` holds labels, and `sample`
            gets `labels=`.
        stochastic: bool. Different seeds must give different samples.
    """

    model: keras.Model
    x: np.ndarray
    y: np.ndarray = None
    sample_kwargs: dict = dataclasses.field(default_factory=dict)
    sample_shape: tuple = None
    integer_samples: bool = False
    paired: bool = False
    conditional: bool = False
    stochastic: bool = True

    def fit_arguments(self):
        return (self.x,) if self.y is None else (self.x, self.y)

    def sample_arguments(self, num_samples):
        """`sample_kwargs` plus the condition or labels of `num_samples`."""
        arguments = dict(self.sample_kwargs)
        if self.paired:
            arguments["condition"] = self.x[:num_samples]
        if self.conditional:
            arguments["labels"] = self.y[:num_samples]
        return arguments


# === Data ===


def _rng():
    return np.random.default_rng(0)


def images(low=0.0, high=1.0, shape=SHAPE):
    return _rng().uniform(low, high, (NUM_EXAMPLES,) + shape).astype("float32")


def quantized_images():
    """Images on 17 levels in [0, 1], for dequantizing flows."""
    return np.round(images() * 16) / 16


def points():
    return _rng().normal(size=(NUM_EXAMPLES, 2)).astype("float32")


def integers(high, shape):
    return _rng().integers(0, high, (NUM_EXAMPLES,) + shape).astype("int32")


def labels():
    return np.arange(NUM_EXAMPLES, dtype="int32") % NUM_CLASSES


# === Networks and compiling ===


def adam():
    return keras.optimizers.Adam(1e-3)


def compiled(model, **optimizers):
    model.compile(**(optimizers or {"optimizer": adam()}))
    return model


def class_conditional_image_case(model, sample_kwargs):
    """The case of a class-conditional model of images in `[-1, 1]`,
    compiled with one Adam."""
    return Case(
        compiled(model),
        images(-1.0),
        labels(),
        sample_kwargs=sample_kwargs,
        conditional=True,
    )


def gan_optimizers():
    return {"g_optimizer": adam(), "d_optimizer": adam()}


def generator():
    return kgen.networks.dcgan_generator(SHAPE, LATENT_DIM, filters=4)


def critic(**kwargs):
    return kgen.networks.dcgan_discriminator(SHAPE, filters=4, **kwargs)


def vae_networks(latent_dim=LATENT_DIM, num_classes=None):
    return (
        kgen.networks.vae_encoder(
            SHAPE, latent_dim, 4, 16, num_classes=num_classes
        ),
        kgen.networks.vae_decoder(
            SHAPE, latent_dim, 4, 16, num_classes=num_classes
        ),
    )


def autoencoder_networks():
    """A plain autoencoder's encoder outputs the code itself."""
    encoder, decoder = vae_networks()
    code = keras.layers.Dense(LATENT_DIM)(encoder.output)
    return keras.Model(encoder.inputs, code), decoder


def mlp(outputs):
    return keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(8, activation="swish"),
            keras.layers.Dense(outputs),
        ]
    )


def langevin():
    return kgen.samplers.LangevinSampler(
        step_size=0.01, num_steps=2, clip_range=(-3.0, 3.0)
    )


def pixel_cnn(grid_shape, num_levels, **kwargs):
    return kgen.models.PixelCNN(
        grid_shape, num_levels=num_levels, filters=4, num_layers=1, **kwargs
    )


def unet_denoiser(shape=SHAPE, **kwargs):
    return kgen.networks.unet_denoiser(
        shape, widths=(4,), num_heads=2, **kwargs
    )


def dit_denoiser(shape=SHAPE, **kwargs):
    return kgen.networks.dit_denoiser(
        shape, patch_size=2, hidden_dim=4, num_layers=1, num_heads=2, **kwargs
    )


# Clips of 3 frames: the video U-Net's time convolution spans 3.
VIDEO_SHAPE = (3, 4, 4, 1)


def video_unet_denoiser(shape=VIDEO_SHAPE, **kwargs):
    return kgen.networks.video_unet_denoiser(
        shape,
        widths=(4,),
        spatial_attention_levels=(),
        num_heads=2,
        **kwargs,
    )


def model_class_name(case_name):
    """The `kgen.models` class a case builds (`DiffusionModel[dit]` ->
    `DiffusionModel`)."""
    return case_name.split("[")[0]


def vae():
    encoder, decoder = vae_networks()
    return kgen.models.VAE(encoder, decoder, LATENT_DIM, seed=0)


# === Cases: GANs ===


def gan():
    model = kgen.models.GAN(generator(), critic(), LATENT_DIM, seed=0)
    return Case(compiled(model, **gan_optimizers()), images(-1.0))


def dcgan():
    model = kgen.models.DCGAN(SHAPE, latent_dim=LATENT_DIM, filters=4, seed=0)
    return Case(compiled(model, **gan_optimizers()), images(-1.0))


def wgan():
    model = kgen.models.WGAN(
        generator(), critic(), LATENT_DIM, n_critic=2, seed=0
    )
    return Case(compiled(model, **gan_optimizers()), images(-1.0))


def wgan_gp():
    model = kgen.models.WGANGP(
        generator(), critic(), LATENT_DIM, n_critic=2, seed=0
    )
    return Case(compiled(model, **gan_optimizers()), images(-1.0))


def wave_gan():
    # The shortest clip five stride-4 stages allow.
    model = kgen.models.WaveGAN(
        audio_length=1024,
        latent_dim=LATENT_DIM,
        model_size=1,
        num_classes=NUM_CLASSES,
        n_critic=1,
        seed=0,
    )
    return Case(
        compiled(model, **gan_optimizers()),
        images(-1.0, shape=(1024, 1)),
        labels(),
        conditional=True,
    )


def conditional_gan():
    model = kgen.models.GAN(
        kgen.networks.conditional_dcgan_generator(
            SHAPE, LATENT_DIM, NUM_CLASSES, filters=4
        ),
        kgen.networks.conditional_dcgan_discriminator(
            SHAPE, NUM_CLASSES, filters=4
        ),
        latent_dim=LATENT_DIM,
        num_classes=NUM_CLASSES,
        seed=0,
    )
    return Case(
        compiled(model, **gan_optimizers()),
        images(-1.0),
        labels(),
        conditional=True,
    )


def style_gan():
    model = kgen.models.StyleGAN(
        kgen.networks.stylegan_mapping(LATENT_DIM, num_layers=1),
        kgen.networks.stylegan_synthesis(SHAPE, LATENT_DIM, filters=4),
        critic(),
        latent_dim=LATENT_DIM,
        seed=0,
    )
    return Case(compiled(model, **gan_optimizers()), images(-1.0))


def progressive_gan():
    model = kgen.models.ProgressiveGAN(
        SHAPE, latent_dim=LATENT_DIM, filters=4, seed=0
    )
    return Case(compiled(model, **gan_optimizers()), images(-1.0))


def pix2pix():
    model = kgen.models.Pix2Pix(
        kgen.networks.unet_generator(SHAPE, filters=4),
        kgen.networks.patchgan_discriminator(SHAPE, SHAPE, filters=4),
        seed=0,
    )
    return Case(
        compiled(model, **gan_optimizers()),
        images(-1.0),
        images(-1.0)[::-1].copy(),
        paired=True,
        stochastic=False,
    )


def srgan():
    model = kgen.models.SRGAN(
        kgen.networks.srgan_generator(
            LOW_SHAPE, factor=2, filters=4, num_residual_blocks=1
        ),
        critic(),
        seed=0,
    )
    return Case(
        compiled(model, **gan_optimizers()),
        images(-1.0, shape=LOW_SHAPE),
        images(-1.0),
        sample_shape=SHAPE,
        paired=True,
        stochastic=False,
    )


def cycle_gan():
    model = kgen.models.CycleGAN(
        kgen.networks.unet_generator(SHAPE, filters=4, name="g_ab"),
        kgen.networks.unet_generator(SHAPE, filters=4, name="g_ba"),
        kgen.networks.patchgan_discriminator(SHAPE, filters=4, name="d_a"),
        kgen.networks.patchgan_discriminator(SHAPE, filters=4, name="d_b"),
        seed=0,
    )
    compiled(
        model,
        g_ab_optimizer=adam(),
        g_ba_optimizer=adam(),
        d_a_optimizer=adam(),
        d_b_optimizer=adam(),
    )
    return Case(
        model,
        images(-1.0),
        -images(-1.0),
        paired=True,
        stochastic=False,
    )


# === Cases: autoencoders and VAEs ===


def autoencoder():
    model = kgen.models.Autoencoder(*autoencoder_networks(), LATENT_DIM, seed=0)
    return Case(compiled(model), images())


def denoising_autoencoder():
    model = kgen.models.DenoisingAutoencoder(
        *autoencoder_networks(),
        LATENT_DIM,
        corruption=kgen.layers.Dropout(0.5, seed=1),
        seed=0,
    )
    return Case(compiled(model), images())


def kl_autoencoder():
    model = kgen.models.KLAutoencoder(
        *kgen.networks.kl_autoencoder_networks(
            SHAPE, latent_channels=2, filters=4, max_steps=1
        ),
        kl_weight=1e-3,
        seed=0,
    )
    return Case(compiled(model), images(-1.0))


def vae_case():
    return Case(compiled(vae()), images())


def beta_vae():
    model = kgen.models.BetaVAE(
        *vae_networks(), LATENT_DIM, capacity_max=5.0, capacity_steps=4, seed=0
    )
    return Case(compiled(model), images())


def conditional_vae():
    model = kgen.models.VAE(
        *vae_networks(num_classes=NUM_CLASSES),
        latent_dim=LATENT_DIM,
        num_classes=NUM_CLASSES,
        seed=0,
    )
    return Case(compiled(model), images(), labels(), conditional=True)


def hierarchical_vae():
    # The encoder's 2 * 8 features feed both posteriors.
    encoder, _ = vae_networks(latent_dim=8)
    _, decoder = vae_networks(latent_dim=4)
    model = kgen.models.HierarchicalVAE(
        encoder, decoder, latent_dims=(4, 2), hidden_dim=8, seed=0
    )
    return Case(compiled(model), images())


def vae_gan():
    model = kgen.models.VAEGAN(
        *vae_networks(),
        critic(return_features=True),
        latent_dim=LATENT_DIM,
        seed=0,
    )
    compiled(model, e_optimizer=adam(), g_optimizer=adam(), d_optimizer=adam())
    return Case(model, images())


def vq_vae():
    model = kgen.models.VQVAE(
        kgen.networks.vqvae_encoder(SHAPE, embedding_dim=4, filters=4),
        kgen.networks.vqvae_decoder(SHAPE, embedding_dim=4, filters=4),
        kgen.layers.VectorQuantizer(8, 4, seed=0),
        seed=0,
    )
    model.prior = pixel_cnn(model.code_shape, 8, seed=0)
    return Case(compiled(model), images())


def vq_vae2():
    networks = kgen.networks.vqvae2_networks(SHAPE, embedding_dim=4, filters=4)
    model = kgen.models.VQVAE2(
        **networks,
        bottom_quantizer=kgen.layers.VectorQuantizer(8, 4, seed=0),
        top_quantizer=kgen.layers.VectorQuantizer(8, 4, seed=1),
        seed=0,
    )
    top, bottom = (
        keras.ops.convert_to_numpy(c) for c in model.encode(images())
    )
    condition = keras.ops.convert_to_numpy(model.bottom_condition(top))
    model.top_prior = pixel_cnn(top.shape[1:], 8, seed=0)
    model.bottom_prior = pixel_cnn(
        bottom.shape[1:], 8, condition_channels=condition.shape[-1], seed=0
    )
    return Case(compiled(model), images())


# === Cases: diffusion ===


def diffusion_model(denoiser=unet_denoiser, shape=SHAPE):
    model = kgen.models.DiffusionModel(
        denoiser(shape, num_classes=NUM_CLASSES),
        schedulers.DDPMScheduler(**SCHEDULE),
        num_classes=NUM_CLASSES,
        seed=0,
    )
    return Case(
        compiled(model),
        images(-1.0, shape=shape),
        labels(),
        sample_kwargs=DIFFUSION_SAMPLING,
        conditional=True,
    )


def flow_matching():
    model = kgen.models.FlowMatching(
        unet_denoiser(num_classes=NUM_CLASSES, timestep_dtype="float32"),
        num_classes=NUM_CLASSES,
        seed=0,
    )
    return class_conditional_image_case(
        model, {"num_steps": 2, "scheduler": "heun"}
    )


def mean_flow():
    model = kgen.models.MeanFlow(
        unet_denoiser(
            num_classes=NUM_CLASSES,
            timestep_dtype="float32",
            step_size_input=True,
        ),
        num_classes=NUM_CLASSES,
        training_guidance_scale=1.0,
        seed=0,
    )
    return class_conditional_image_case(model, {"num_steps": 2})


def shortcut_model():
    model = kgen.models.ShortcutModel(
        unet_denoiser(
            num_classes=NUM_CLASSES,
            timestep_dtype="float32",
            step_size_input=True,
        ),
        num_base_steps=8,
        num_classes=NUM_CLASSES,
        seed=0,
    )
    return class_conditional_image_case(model, {"num_steps": 2})


def consistency_model():
    teacher = kgen.models.FlowMatching(
        unet_denoiser(num_classes=NUM_CLASSES, timestep_dtype="float32"),
        num_classes=NUM_CLASSES,
        seed=0,
    )
    model = kgen.models.ConsistencyModel(
        unet_denoiser(num_classes=NUM_CLASSES, timestep_dtype="float32"),
        teacher=teacher,
        num_classes=NUM_CLASSES,
        num_discretization_steps=4,
        seed=0,
    )
    return class_conditional_image_case(model, {"num_steps": 2})


def molecules(num_atom_types=2, max_atoms=4):
    """Seeded molecules of 2 to `max_atoms` atoms, padded, in
    `kgen.datasets.load_qm9`'s layout."""
    rng = _rng()
    counts = rng.integers(2, max_atoms + 1, NUM_EXAMPLES)
    atom_mask = np.arange(max_atoms)[None, :] < counts[:, None]
    positions = (
        rng.normal(size=(NUM_EXAMPLES, max_atoms, 3)) * atom_mask[..., None]
    )
    atom_types = rng.integers(0, num_atom_types, (NUM_EXAMPLES, max_atoms))
    return {
        "positions": positions.astype("float32"),
        "atom_types": (atom_types * atom_mask).astype("int32"),
        "atom_mask": atom_mask,
    }


def equivariant_diffusion():
    model = kgen.models.EquivariantDiffusion(
        kgen.networks.egnn(
            features_dim=3, hidden_dim=4, num_layers=1, max_atoms=4
        ),
        num_atom_types=2,
        atom_counts=[0, 0, 3, 3, 2],
        scheduler=schedulers.DDPMScheduler(**SCHEDULE),
        seed=0,
    )
    return Case(compiled(model), molecules(), sample_kwargs=DIFFUSION_SAMPLING)


def latent_diffusion():
    model = kgen.models.LatentDiffusion(
        vae(),
        kgen.networks.mlp_denoiser(LATENT_DIM, hidden_dim=8, num_layers=1),
        schedulers.DDPMScheduler(**SCHEDULE),
        seed=0,
    )
    return Case(compiled(model), images(), sample_kwargs=DIFFUSION_SAMPLING)


CAPTIONS = ("a thick one", "two", "a slanted one", "a thin two") * 2


def latent_diffusion_on_kl_autoencoder():
    autoencoder = kl_autoencoder().model
    model = kgen.models.LatentDiffusion(
        autoencoder,
        kgen.networks.unet_denoiser(
            autoencoder.latent_shape, widths=(4,), attention_levels=()
        ),
        schedulers.DDPMScheduler(**SCHEDULE),
        seed=0,
    )
    return Case(compiled(model), images(-1.0), sample_kwargs=DIFFUSION_SAMPLING)


def text_parts():
    """`(tokenizer, text_encoder)` of the contract's captions."""
    tokenizer = kgen.tokenizers.WordTokenizer.from_texts(CAPTIONS)
    text_encoder = kgen.networks.text_encoder(
        tokenizer.vocabulary_size,
        tokenizer.sequence_length,
        width=4,
        num_layers=1,
        num_heads=2,
    )
    return tokenizer, text_encoder


def text_case(model):
    return Case(
        compiled(model),
        images(-1.0),
        np.array(CAPTIONS),
        sample_kwargs=dict(DIFFUSION_SAMPLING, prompts="a thick two"),
    )


def latent_text_to_image():
    autoencoder = kl_autoencoder().model
    tokenizer, text_encoder = text_parts()
    denoiser = kgen.networks.unet_denoiser(
        autoencoder.latent_shape,
        widths=(4,),
        attention_levels=(0,),
        context_shape=(tokenizer.sequence_length, 4),
    )
    return text_case(
        kgen.models.LatentTextToImage(
            autoencoder,
            denoiser,
            text_encoder,
            tokenizer,
            schedulers.DDPMScheduler(**SCHEDULE),
            latent_scale=0.5,
            seed=0,
        )
    )


def text_to_image(denoiser=unet_denoiser):
    tokenizer, text_encoder = text_parts()
    return text_case(
        kgen.models.TextToImage(
            denoiser(context_shape=(tokenizer.sequence_length, 4)),
            text_encoder,
            tokenizer,
            schedulers.DDPMScheduler(**SCHEDULE),
            seed=0,
        )
    )


def cascaded_diffusion():
    base = kgen.models.DiffusionModel(
        unet_denoiser(LOW_SHAPE),
        schedulers.DDPMScheduler(**SCHEDULE),
        seed=0,
    )
    model = kgen.models.CascadedDiffusion(
        unet_denoiser(condition_channels=1),
        schedulers.DDPMScheduler(**SCHEDULE),
        base=base,
        condition_noise=0.1,
        seed=0,
    )
    return Case(compiled(model), images(-1.0), sample_kwargs=DIFFUSION_SAMPLING)


# === Cases: flows ===


def flow_model():
    bijector = bijectors.Chain(
        [
            bijectors.ActNorm(event_ndims=1),
            bijectors.AffineCoupling(hidden_dim=8, num_layers=1),
            bijectors.AffineCoupling(reverse=True, hidden_dim=8, num_layers=1),
        ]
    )
    model = kgen.models.FlowModel(bijector, (2,), seed=0)
    return Case(compiled(model), points())


def real_nvp():
    model = kgen.models.RealNVP((2,), num_couplings=2, hidden_dim=8, seed=0)
    return Case(compiled(model), points())


def maf():
    model = kgen.models.MAF((2,), num_flows=2, hidden_dims=(8,), seed=0)
    return Case(compiled(model), points())


def neural_spline_flow():
    model = kgen.models.NeuralSplineFlow(
        (2,), num_couplings=2, num_spline_bins=4, hidden_dim=8, seed=0
    )
    return Case(compiled(model), points())


def glow():
    model = kgen.models.Glow(
        SHAPE, num_levels=2, num_steps=1, hidden_dim=4, num_bins=17, seed=0
    )
    return Case(compiled(model), quantized_images())


# === Cases: autoregressive ===


def gpt():
    model = kgen.models.GPT(
        11, 8, num_layers=1, num_heads=2, hidden_dim=8, seed=0
    )
    return Case(
        compiled(model),
        integers(11, (8,)),
        sample_kwargs={"length": 6},
        sample_shape=(6,),
        integer_samples=True,
    )


def sequence_vae():
    """Rows of a tokenizer with a start symbol (id 1), as the VAE needs."""
    model = kgen.models.SequenceVAE(
        11,
        8,
        1,
        latent_dim=3,
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        encoder_layers=1,
        seed=0,
    )
    tokens = integers(11, (8,))
    tokens[:, 0] = 1
    return Case(compiled(model), tokens, integer_samples=True)


def gpt_class_conditional():
    """A molecule GPT's layout: rows start at `[BOS]` (id 1)."""
    model = kgen.models.GPT(
        11,
        8,
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        num_classes=NUM_CLASSES,
        start_id=1,
        seed=0,
    )
    return Case(
        compiled(model),
        integers(11, (8,)),
        labels(),
        sample_kwargs={"length": 6},
        sample_shape=(6,),
        integer_samples=True,
        conditional=True,
    )


def mask_git():
    network = kgen.networks.masked_token_transformer(
        (4, 4), 4, width=8, num_layers=1, num_heads=2, num_classes=NUM_CLASSES
    )
    model = kgen.models.MaskGIT(network, num_classes=NUM_CLASSES, seed=0)
    return Case(
        compiled(model),
        integers(4, (4, 4)),
        labels(),
        sample_kwargs={"num_steps": 2},
        integer_samples=True,
        conditional=True,
    )


def masked_diffusion():
    network = kgen.networks.masked_token_transformer(
        (8,), 4, width=8, num_layers=1, num_heads=2, num_classes=NUM_CLASSES
    )
    model = kgen.models.MaskedDiffusion(
        network, num_classes=NUM_CLASSES, seed=0
    )
    return Case(
        compiled(model),
        integers(4, (8,)),
        labels(),
        sample_kwargs={"num_steps": 2},
        integer_samples=True,
        conditional=True,
    )


def pixel_cnn_case():
    model = pixel_cnn((4, 4), 2, num_classes=NUM_CLASSES, seed=0)
    return Case(
        compiled(model),
        integers(2, (4, 4)),
        labels(),
        integer_samples=True,
        conditional=True,
    )


def wave_net():
    model = kgen.models.WaveNet(
        num_levels=16,
        dilations=(1, 2),
        residual_channels=4,
        skip_channels=4,
        num_classes=NUM_CLASSES,
        seed=0,
    )
    return Case(
        compiled(model),
        integers(16, (12,)),
        labels(),
        sample_kwargs={"length": 6},
        sample_shape=(6,),
        integer_samples=True,
        conditional=True,
    )


# === Cases: energy-based ===


def energy_model():
    model = kgen.models.EnergyModel(
        mlp(1), langevin(), replay_buffer_size=16, seed=0
    )
    return Case(compiled(model), points(), sample_kwargs={"num_steps": 2})


def joint_energy_model():
    model = kgen.models.JointEnergyModel(
        mlp(NUM_CLASSES), langevin(), replay_buffer_size=16, seed=0
    )
    return Case(
        compiled(model),
        points(),
        labels(),
        sample_kwargs={"num_steps": 2},
        conditional=True,
    )


def rbm():
    model = kgen.models.RBM(6, 4, seed=0)
    return Case(
        compiled(model),
        integers(2, (6,)).astype("float32"),
        sample_kwargs={"num_steps": 2},
    )


CASES = {
    "Autoencoder": autoencoder,
    "BetaVAE": beta_vae,
    "CascadedDiffusion": cascaded_diffusion,
    "ConsistencyModel": consistency_model,
    "CycleGAN": cycle_gan,
    "DCGAN": dcgan,
    "DenoisingAutoencoder": denoising_autoencoder,
    "DiffusionModel": diffusion_model,
    "DiffusionModel[dit]": lambda: diffusion_model(dit_denoiser),
    "DiffusionModel[video]": lambda: diffusion_model(
        video_unet_denoiser, VIDEO_SHAPE
    ),
    "EnergyModel": energy_model,
    "EquivariantDiffusion": equivariant_diffusion,
    "FlowMatching": flow_matching,
    "FlowModel": flow_model,
    "GAN": gan,
    "GAN[conditional]": conditional_gan,
    "GPT": gpt,
    "GPT[class_conditional]": gpt_class_conditional,
    "Glow": glow,
    "HierarchicalVAE": hierarchical_vae,
    "JointEnergyModel": joint_energy_model,
    "KLAutoencoder": kl_autoencoder,
    "LatentDiffusion": latent_diffusion,
    "LatentDiffusion[kl]": latent_diffusion_on_kl_autoencoder,
    "LatentTextToImage": latent_text_to_image,
    "MAF": maf,
    "MeanFlow": mean_flow,
    "MaskGIT": mask_git,
    "MaskedDiffusion": masked_diffusion,
    "NeuralSplineFlow": neural_spline_flow,
    "Pix2Pix": pix2pix,
    "PixelCNN": pixel_cnn_case,
    "ProgressiveGAN": progressive_gan,
    "RBM": rbm,
    "RealNVP": real_nvp,
    "SRGAN": srgan,
    "SequenceVAE": sequence_vae,
    "ShortcutModel": shortcut_model,
    "StyleGAN": style_gan,
    "TextToImage": text_to_image,
    "TextToImage[dit]": lambda: text_to_image(dit_denoiser),
    "VAE": vae_case,
    "VAE[conditional]": conditional_vae,
    "VAEGAN": vae_gan,
    "VQVAE": vq_vae,
    "VQVAE2": vq_vae2,
    "WGAN": wgan,
    "WGANGP": wgan_gp,
    "WaveGAN": wave_gan,
    "WaveNet": wave_net,
}
