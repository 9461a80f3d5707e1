// The archlang extension: highlighting comes from syntaxes/arch.tmLanguage.json;
// everything else (diagnostics as you type, hover, completion, go to
// definition, formatting) from the language server, `archlang lsp`, which this
// file starts over stdio for every .arch document.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("archlang");
  const command = config.get("server.command", "archlang");
  const args = config.get("server.args", ["lsp"]);
  const serverOptions = { command, args };
  const clientOptions = {
    documentSelector: [{ language: "arch" }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.arch") },
  };
  client = new LanguageClient("archlang", "archlang language server", serverOptions, clientOptions);
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
