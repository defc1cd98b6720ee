"""Command lines run in children forked from a process that has imported
kgen, for the tests that start many of them.

A test that runs `python -m kgen train ...` or a recipe in a fresh
process pays that process's imports each time: 5.5 s of TensorFlow's and
Keras' on a quiet core, half of a two-epoch `kgen train vae` (11 s).
`ForkServer` starts one process that imports kgen and then forks a child
for each command line. The child starts where a fresh `python` would be
once those imports were done, and runs the command as `python` would:
`-m MODULE` or a script, as `__main__`, with its own `sys.argv`, working
directory, stdout and stderr, ending with its exit status or the signal
that killed it, after its threads and `atexit` functions. Nothing but
imports runs before the fork, so no model, seed, Keras name or backend
runtime is shared: the backends start theirs lazily, in the child.

The standard library's `multiprocessing` forkserver also forks from a
process with modules preloaded, but it runs Python functions, one
backend per interpreter (its server is started once, with the
environment of the moment), and reports neither output nor the command
line semantics above; hence this module.

The server side, which `ForkServer` starts (one JSON request a line on
stdin, one JSON result a line on stdout):

```
KERAS_BACKEND=jax python -m tests.fork_server
```
"""

import atexit
import json
import os
import runpy
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

# The repository root (tests/conftest.py's, which this module does not
# import: the server imports kgen alone).
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# How long a request may wait beyond its command's own timeout (the
# server kills a child at its timeout and answers at once).
_ANSWER_GRACE_SECONDS = 60


class ForkServer:
    """A process of kgen imported on `KERAS_BACKEND` of `environment`
    (default: this process's environment) that runs command lines in
    forked children; `run` returns what `subprocess.run` would.

    Example:

    ```python
    server = ForkServer(dict(os.environ, KERAS_BACKEND="jax"))
    done = server.run(["-m", "kgen", "train", "vae", "--out", out], timeout=600)
    server.close()
    ```
    """

    def __init__(self, environment=None):
        self._folder = tempfile.mkdtemp(prefix="kgen-fork-server-")
        self._log = os.path.join(self._folder, "server.log")
        with open(self._log, "w") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tests.fork_server"],
                cwd=REPO,
                env=environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self._count = 0

    def run(self, argv, *, timeout, cwd=REPO):
        """Runs `python *argv` (`-m MODULE ...` or `SCRIPT ...`) in a
        child; a `subprocess.CompletedProcess` (a negative `returncode`
        is the signal that ended it). Raises `subprocess.TimeoutExpired`
        past `timeout` seconds, the child killed."""
        self._count += 1
        stdout = os.path.join(self._folder, f"{self._count}.out")
        stderr = os.path.join(self._folder, f"{self._count}.err")
        request = {
            "argv": [str(arg) for arg in argv],
            "cwd": str(cwd),
            "stdout": stdout,
            "stderr": stderr,
            "timeout": timeout,
        }
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        answer = self._answer(timeout + _ANSWER_GRACE_SECONDS)
        output = [_read_and_remove(path) for path in (stdout, stderr)]
        if answer["returncode"] is None:
            raise subprocess.TimeoutExpired(argv, timeout, *output)
        return subprocess.CompletedProcess(argv, answer["returncode"], *output)

    def _answer(self, seconds):
        ready, _, _ = select.select([self._process.stdout], [], [], seconds)
        line = self._process.stdout.readline() if ready else ""
        if not line:
            self._process.kill()
            with open(self._log) as log:
                raise RuntimeError(
                    f"the fork server did not answer: {log.read()[-3000:]}"
                )
        return json.loads(line)

    def close(self):
        self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()
        shutil.rmtree(self._folder, ignore_errors=True)


def _read_and_remove(path):
    try:
        with open(path, errors="replace") as file:
            text = file.read()
    except FileNotFoundError:  # the child died before opening it
        return ""
    os.remove(path)
    return text


def _serve():
    import kgen  # noqa: F401  (what every child starts with)
    import kgen.cli  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        returncode = _run_forked(**request)
        print(json.dumps({"returncode": returncode}), flush=True)


def _run_forked(argv, cwd, stdout, stderr, timeout):
    """The exit code of `python *argv` in a forked child (negative: the
    signal that ended it); `None` past `timeout`, the child killed."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(argv, cwd, stdout, stderr)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.02)


def _child(argv, cwd, stdout, stderr):
    """Runs `argv` as `python` would and exits; never returns."""
    code = 1
    try:
        for fd, path in ((1, stdout), (2, stderr)):
            file = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(file, fd)
            os.close(file)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        sys.stdin = open(0, closefd=False)
        os.chdir(cwd)
        code = _exit_code(_run_main, argv)
        # What the interpreter does at exit, in its order (and as
        # `multiprocessing` ends a forked child): waits for the threads
        # not marked daemon, then runs the `atexit` functions.
        threading._shutdown()
        atexit._run_exitfuncs()
    except BaseException:  # anything, so that the child never returns
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _run_main(argv):
    if argv[0] == "-m":
        # `python -m`: the module found from the working directory.
        sys.argv = argv[1:]
        sys.path[0] = os.getcwd()
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        # `python SCRIPT`: the script's folder first on the path.
        script = os.path.abspath(argv[0])
        sys.argv = [script] + argv[1:]
        sys.path[0] = os.path.dirname(script)
        runpy.run_path(script, run_name="__main__")


def _exit_code(main, argv):
    """`python`'s exit status for `main(argv)`: 0, a `SystemExit`'s code,
    or 1 after printing an uncaught exception."""
    try:
        main(argv)
    except SystemExit as exit:
        if exit.code is None:
            return 0
        if isinstance(exit.code, int):
            return exit.code
        print(exit.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    _serve()
