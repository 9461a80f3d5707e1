"""`archlang lsp`: the language server, on pygls, over stdio.

Stage: an editor front end beside the CLI. It translates the Language Server
Protocol to `compiler.lsp_document` and back — diagnostics as you type (the
codes and spans of `archlang check`), hover, completion, go to definition
and formatting through `dsl.fmt` — and holds the latest analysis of each open
document. The text comes from the editor's buffer, never from disk; imports
resolve from the document's folder. It imports no torch.

    python -m archlang.compiler.lsp        # what `archlang lsp` runs

Columns are counted in characters; the protocol's UTF-16 units differ only
for characters outside the Basic Multilingual Plane, which specs do not use
outside comments.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from archlang.dsl.diagnostics import DiagnosticError
from archlang.dsl.fmt import FormatError, format_text
from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from .lsp_document import Completion, Document, Place

SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}
KINDS = {"layer": lsp.CompletionItemKind.Function, "block": lsp.CompletionItemKind.Class,
         "argument": lsp.CompletionItemKind.Property, "label": lsp.CompletionItemKind.Variable,
         "keyword": lsp.CompletionItemKind.Keyword}


class ArchServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("archlang", "0.1.0", text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        # uri → (the latest analysis, the latest one whose text parsed: completion falls back on it mid-edit)
        self.documents: dict[str, tuple[Document, Document | None]] = {}

    def analyse(self, uri: str) -> Document:
        text = self.workspace.get_text_document(uri).source
        doc = Document.analyse(text, document_path(uri))
        last_good = doc if doc.unit is not None else self.documents.get(uri, (None, None))[1]
        self.documents[uri] = (doc, last_good)
        return doc

    def current(self, uri: str) -> tuple[Document, Document | None]:
        if uri not in self.documents:
            self.analyse(uri)
        return self.documents[uri]


def document_path(uri: str) -> Path:
    """The file a document stands for; an unsaved one is placed in the working directory."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(path) if path else Path(os.getcwd()) / "untitled.arch"


def to_range(p: Place) -> lsp.Range:
    return lsp.Range(lsp.Position(p.line, p.col), lsp.Position(p.end_line, max(p.end_col, 0)))


def publish(server: ArchServer, uri: str, version: int | None) -> None:
    doc = server.analyse(uri)
    out = []
    for place, d in doc.diagnostics():
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        if place is None:
            # In an imported file, or nowhere in particular: shown on the first line, saying where.
            where = f"{d.span.file}:{d.span.line}:{d.span.col}: " if d.span is not None else ""
            rng = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
            message = where + message
        else:
            rng = to_range(place)
        out.append(lsp.Diagnostic(range=rng, message=message, code=d.code, source="archlang",
                                  severity=SEVERITY.get(d.severity, lsp.DiagnosticSeverity.Information)))
    server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=out, version=version))


def completion_item(c: Completion) -> lsp.CompletionItem:
    doc = lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=c.doc) if c.doc else None
    return lsp.CompletionItem(label=c.label, kind=KINDS[c.kind], detail=c.detail or None, documentation=doc,
                              insert_text=c.insert)


def make_server() -> ArchServer:
    server = ArchServer()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ArchServer, params: lsp.DidOpenTextDocumentParams) -> None:
        publish(ls, params.text_document.uri, params.text_document.version)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ArchServer, params: lsp.DidChangeTextDocumentParams) -> None:
        publish(ls, params.text_document.uri, params.text_document.version)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ArchServer, params: lsp.DidSaveTextDocumentParams) -> None:
        # An imported file may have changed on disk since.
        publish(ls, params.text_document.uri, None)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ArchServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.documents.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                          diagnostics=[]))

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: ArchServer, params: lsp.HoverParams) -> lsp.Hover | None:
        doc, _ = ls.current(params.text_document.uri)
        text = doc.hover(params.position.line, params.position.character)
        if text is None:
            return None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["(", ",", " "]))
    def completion(ls: ArchServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        doc, last_good = ls.current(params.text_document.uri)
        items = doc.completions(params.position.line, params.position.character, fallback=last_good)
        return lsp.CompletionList(is_incomplete=False, items=[completion_item(c) for c in items])

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: ArchServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        doc, _ = ls.current(params.text_document.uri)
        place = doc.definition(params.position.line, params.position.character)
        if place is None:
            return None
        uri = params.text_document.uri if place.path == doc.path else from_fs_path(str(place.path))
        return lsp.Location(uri=uri, range=to_range(place))

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: ArchServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
        text = ls.workspace.get_text_document(params.text_document.uri).source
        try:
            formatted = format_text(text, document_path(params.text_document.uri).name)
        except (DiagnosticError, FormatError):
            return None  # the diagnostics already say why; a formatter never rewrites what does not parse
        if formatted == text:
            return []
        lines = text.split("\n")
        end = lsp.Position(len(lines) - 1, len(lines[-1]))
        return [lsp.TextEdit(range=lsp.Range(lsp.Position(0, 0), end), new_text=formatted)]

    return server


def main() -> None:
    """Serve one editor over stdin/stdout until it says `exit`."""
    logging.basicConfig(level=logging.WARNING)  # pygls logs to stderr; stdout carries the protocol
    make_server().start_io()


if __name__ == "__main__":
    main()
