"""Serve NetCourt KB in production: nginx in front of gunicorn, both on this machine (``make prod``).

    python deploy/prod.py run --listen 0.0.0.0:8080 --index instance/index
    python deploy/prod.py render --listen 127.0.0.1:8080 --upstream 127.0.0.1:8000 --prefix /tmp/kb-nginx

``render`` writes ``<prefix>/nginx.conf`` from deploy/nginx.conf.template (its ``${KB_...}``
filled in; nginx's own ``$variables`` left alone) and creates the folders nginx writes to, so
nginx runs as the current user with everything below ``prefix``. ``run`` renders, starts gunicorn
(deploy/gunicorn.conf.py: one worker per core, ``--preload``) on ``--upstream``, waits until it
answers, then runs nginx in the foreground; when either stops, or on SIGINT/SIGTERM, both stop.
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shutil
import signal
import string
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"


def render(listen: str, upstream: str, prefix: Path, workers: int = 1) -> Path:
    """Write ``prefix/nginx.conf`` and the folders it names; return the config's path."""
    prefix = prefix.resolve()
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / name).mkdir(parents=True, exist_ok=True)
    # nginx switches its workers to `user` only when started as root; the workers then stay
    # the current user (root's are told so explicitly, to write below prefix).
    user = ""
    if os.geteuid() == 0:
        user = f"user {pwd.getpwuid(0).pw_name} {grp.getgrgid(0).gr_name};"
    text = string.Template(TEMPLATE.read_text(encoding="utf-8")).safe_substitute(
        KB_NGINX_USER=user, KB_NGINX_WORKERS=str(workers), KB_NGINX_PREFIX=str(prefix),
        KB_NGINX_LISTEN=listen, KB_GUNICORN_BIND=upstream)
    config = prefix / "nginx.conf"
    config.write_text(text, encoding="utf-8")
    return config


def nginx_command(config: Path) -> list[str]:
    """Return the command that runs nginx in the foreground with ``config`` and its prefix."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix = config.parent
    return [nginx, "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log"), "-g", "daemon off;"]


def gunicorn_command(upstream: str, workers: int) -> list[str]:
    """Return the command that runs gunicorn with the production settings."""
    return [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "-w", str(workers),
            "-b", upstream, "webapp.wsgi:app"]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    """Wait until ``url`` answers 200; raise SystemExit if ``proc`` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"prod: gunicorn exited with status {proc.returncode}.")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"prod: {url} did not answer within {timeout:.0f} s.")


def run(listen: str, upstream: str, prefix: Path, index: str, workers: int) -> int:
    """Run gunicorn and nginx until either stops or a signal arrives; return nginx's exit status."""
    config = render(listen, upstream, prefix, workers=1)
    env = {**os.environ, "KB_INDEX_DIR": index, "PYTHONPATH": str(ROOT)}
    gunicorn = subprocess.Popen(gunicorn_command(upstream, workers), cwd=ROOT, env=env)
    procs = [gunicorn]
    try:
        wait_until_up(f"http://{upstream}/-/health", gunicorn)
        nginx = subprocess.Popen(nginx_command(config))
        procs.append(nginx)
        print(f"prod: serving on http://{listen}/ (nginx) -> gunicorn on {upstream}, {workers} workers; "
              f"nginx logs in {prefix}", file=sys.stderr, flush=True)
        stopping = False

        def stop(signum: int, _frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping and all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return nginx.returncode or 0
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGQUIT if proc is not gunicorn else signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and render or run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("render", "run"):
        p = sub.add_parser(name)
        p.add_argument("--listen", default="127.0.0.1:8080", help="address:port nginx listens on")
        p.add_argument("--upstream", default="127.0.0.1:8000", help="address:port gunicorn listens on (loopback)")
        p.add_argument("--prefix", type=Path, default=ROOT / "instance" / "nginx", help="nginx's config, pid, logs, temp files")
        if name == "run":
            p.add_argument("--index", default=os.environ.get("KB_INDEX_DIR", "instance/index"))
            p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    if args.command == "render":
        print(render(args.listen, args.upstream, args.prefix))
        return 0
    return run(args.listen, args.upstream, args.prefix, args.index, args.workers)


if __name__ == "__main__":
    sys.exit(main())
