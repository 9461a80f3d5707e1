"""`archlang serve`: a live page that checks, tabulates and draws a spec as you type.

Stage: a front end beside the CLI and the language server; it needs no torch.
A small Starlette app, run by uvicorn on 127.0.0.1 only, serves one static page
(compiler/serve_static/) and three JSON endpoints:

    GET  /api/files           the .arch files under the served folder, and the one to open first
    GET  /api/file?path=REL   one of those files' text
    POST /api/check           {"text", "path"} → diagnostics (as `check`), per-model table (as `summary`), SVG

The buffer is checked with `dsl.check_text` exactly as `archlang check` checks
a file (imports resolve from the spec's folder), so codes, spans and messages
agree. The page only ever reads files inside the served folder: paths are
resolved and must stay under it (symbolic links included), and requests must
name a local host, so another web site cannot read the folder through the
browser (DNS rebinding). It does not write files: the buffer lives in the page.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archlang.dsl.diagnostics import Diagnostic
from archlang.dsl.graph import ModelGraph

from archlang import dsl

from .report import check_line, exact, summary_rows

STATIC = Path(__file__).with_name("serve_static")
HOST = "127.0.0.1"
# The picker lists at most this many specs and looks no deeper than this; virtual
# environments and dot-folders are never walked.
MAX_FILES = 500
MAX_DEPTH = 4
SKIP_DIRS = {"node_modules", "__pycache__", "site-packages"}
MAX_TEXT = 1_000_000  # bytes of a buffer to check; a spec is a few kB


class Folder:
    """The served folder: lists its specs and resolves page paths, never outside it."""

    def __init__(self, root: Path):
        self.root = root.resolve()

    def specs(self) -> list[str]:
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            here = Path(dirpath)
            depth = len(here.relative_to(self.root).parts)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS
                                 and depth < MAX_DEPTH and not (here / d / "pyvenv.cfg").exists())
            for f in sorted(filenames):
                if f.endswith(".arch") and self.inside(here / f):
                    found.append((here / f).relative_to(self.root).as_posix())
                    if len(found) >= MAX_FILES:
                        return found
        return found

    def inside(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.root)
        except (ValueError, OSError, RuntimeError):
            return False
        return True

    def resolve(self, rel: str) -> Path | None:
        """The spec file that the page's path `rel` names, or None when it is not a spec inside the folder."""
        if not rel or "\x00" in rel or Path(rel).is_absolute() or not rel.endswith(".arch"):
            return None
        path = self.root / rel
        if not self.inside(path) or not path.is_file():
            return None
        return path.resolve()


@dataclass(frozen=True)
class Served:
    folder: Folder
    first: str | None  # the spec named on the command line, relative to the folder


def diagram_of(g: ModelGraph) -> dict[str, Any]:
    """The model's diagram as SVG, or its text form (with the reason) when graphviz cannot draw it."""
    from .diagram import DiagramError, draw

    drawing = draw(g)
    try:
        svg = drawing.render("svg").decode("utf-8")
    except DiagramError as e:
        return {"svg": None, "text": drawing.text, "note": str(e)}
    return {"svg": svg[svg.find("<svg"):], "text": None, "note": None}


def model_view(g: ModelGraph) -> dict[str, Any]:
    return {
        "name": g.name,
        "line": check_line(g),
        "rows": [list(r) for r in summary_rows(g)],
        "total": ["total", "", ", ".join(str(p) for p in g.outputs), exact(g.params), exact(g.macs)],
        **diagram_of(g),
    }


def diagnostic_view(d: Diagnostic) -> dict[str, Any]:
    return {**d.to_json(), "rendered": d.render()}


def check_view(text: str, name: str, root: Path) -> dict[str, Any]:
    """What the page shows for one buffer: `archlang check`'s diagnostics and, when it checks, each model."""
    res = dsl.check_text(text, name=name, root=root, all_models=True)
    errors = sum(d.severity == "error" for d in res.diagnostics)
    return {
        "ok": res.ok,
        "errors": errors,
        "diagnostics": [diagnostic_view(d) for d in res.diagnostics],
        "models": [model_view(g) for g in res.models] if res.ok else [],
    }


def make_app(served: Served):
    """The Starlette application for one served folder."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    folder = served.folder

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def files(request: Request) -> Response:
        specs = await run_in_threadpool(folder.specs)
        return JSONResponse({"root": folder.root.name or str(folder.root), "files": specs, "first": served.first})

    async def file(request: Request) -> Response:
        path = folder.resolve(request.query_params.get("path", ""))
        if path is None:
            return PlainTextResponse("no such spec in the served folder", status_code=404)
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            return PlainTextResponse(f"cannot read it: {e}", status_code=422)
        return PlainTextResponse(text, headers={"Cache-Control": "no-store"})

    async def check(request: Request) -> Response:
        # JSON only: a form or text/plain post from another web site cannot reach the checker unasked.
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return PlainTextResponse("send application/json", status_code=415)
        body = await request.body()
        if len(body) > MAX_TEXT:
            return PlainTextResponse("the buffer is too large to check", status_code=413)
        try:
            data = await request.json()
            text, rel = data["text"], data.get("path") or "untitled.arch"
            if not isinstance(text, str) or not isinstance(rel, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return PlainTextResponse('send {"text": "...", "path": "..."}', status_code=400)
        # Imports resolve from the spec's own folder, which must be inside the served one.
        path = folder.resolve(rel)
        root = path.parent if path is not None else folder.root
        name = Path(rel).name if path is not None else "untitled.arch"
        view = await run_in_threadpool(check_view, text, name, root)
        return JSONResponse(view)

    return Starlette(
        routes=[
            Route("/", index),
            Route("/api/files", files),
            Route("/api/file", file),
            Route("/api/check", check, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=[HOST, "localhost", "[::1]"])],
    )


def served_for(file: Path | None) -> Served:
    """A spec on the command line serves its folder and opens first; without one, the current folder."""
    if file is None:
        return Served(Folder(Path.cwd()), None)
    folder = Folder(file.resolve().parent)
    return Served(folder, file.resolve().relative_to(folder.root).as_posix())


def run(file: Path | None, port: int, echo=print) -> None:
    """Serve until interrupted. `port` 0 takes a free one; the page's address is printed once it listens."""
    import uvicorn

    served = served_for(file)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    # Listen before the address is printed: a bound socket that does not listen yet refuses connections,
    # and a script (or a test) that reads the address may connect at once.
    sock.listen(128)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(make_app(served), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    page = f"http://{HOST}:{bound}/"
    if served.first:
        page += f"#{served.first}"
    echo(f"archlang serve: {served.folder.root} on {page}  (Ctrl+C stops)")
    sys.stdout.flush()
    server.run(sockets=[sock])
