from kgen.models.vae.vae import VAE

__all__ = ["VAE"]
