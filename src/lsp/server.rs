//! The protocol loop: one message at a time, in order, on the calling thread.
//!
//! Checks take milliseconds on definition-sized files, so requests are answered in turn rather
//! than on worker threads: a diagnostic is never published for a text older than one already
//! published.

use std::path::Path;
use std::sync::OnceLock;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument, Exit,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, GotoDefinition, HoverRequest,
    RegisterCapability, Request as _,
};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    CompletionOptions, CompletionParams, CompletionResponse, DidChangeTextDocumentParams,
    DidChangeWatchedFilesParams, DidChangeWatchedFilesRegistrationOptions,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DocumentSymbolParams,
    DocumentSymbolResponse, FileSystemWatcher, GlobPattern, GotoDefinitionParams,
    GotoDefinitionResponse, HoverParams, HoverProviderCapability, InitializeParams,
    InitializeResult, OneOf, PublishDiagnosticsParams, Registration, RegistrationParams,
    ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind,
};
use serde_json::Value;

use super::ServerError;
use super::classify::FileKind;
use super::completion::{self, Request as CompletionRequest};
use super::hover;
use super::quick_fix;
use super::workspace::{Publication, Workspace};
use super::{goto, outline};
use crate::catalog::DATA_CENTER_SET_DIR;
use crate::schema;

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `shutdown` then `exit`, as the protocol asks.
    Clean,
    /// `exit` without `shutdown`, or the client went away.
    Abrupt,
}

/// Answers `initialize`, then serves until the client says `exit`.
pub(super) fn serve(connection: &Connection) -> Result<Ending, ServerError> {
    let (id, params) = connection.initialize_start()?;
    let watch = serde_json::from_value::<InitializeParams>(params).is_ok_and(|params| {
        params
            .capabilities
            .workspace
            .and_then(|workspace| workspace.did_change_watched_files)
            .and_then(|watched| watched.dynamic_registration)
            .unwrap_or(false)
    });
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "provider-forge".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
    };
    connection.initialize_finish(id, serde_json::to_value(result)?)?;
    if watch {
        send(connection, Message::Request(watch_sets()?))?;
    }

    let mut workspace = Workspace::default();
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    return Ok(Ending::Clean);
                }
                let response = answer(&workspace, request);
                send(connection, Message::Response(response))?;
            }
            Message::Notification(notification) if notification.method == Exit::METHOD => {
                return Ok(Ending::Abrupt);
            }
            Message::Notification(notification) => {
                for publication in notice(&mut workspace, notification) {
                    let params = PublishDiagnosticsParams {
                        uri: publication.uri,
                        diagnostics: publication.diagnostics,
                        version: None,
                    };
                    let message = Notification::new(PublishDiagnostics::METHOD.to_owned(), params);
                    send(connection, Message::Notification(message))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(Ending::Abrupt)
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["<".to_owned()]),
            ..CompletionOptions::default()
        }),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        definition_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// Asks the client to report changes on disk of data-center sets, which open providers are
/// checked against while the set itself is not open. (The client answers; nothing in the
/// answer is needed.)
fn watch_sets() -> Result<Request, ServerError> {
    let options = DidChangeWatchedFilesRegistrationOptions {
        watchers: vec![FileSystemWatcher {
            glob_pattern: GlobPattern::String(format!("**/{DATA_CENTER_SET_DIR}/*.yaml")),
            kind: None,
        }],
    };
    let registration = Registration {
        id: "provider-forge-sets".to_owned(),
        method: DidChangeWatchedFiles::METHOD.to_owned(),
        register_options: Some(serde_json::to_value(options)?),
    };
    Ok(Request::new(
        "provider-forge-watch".to_owned().into(),
        RegisterCapability::METHOD.to_owned(),
        RegistrationParams {
            registrations: vec![registration],
        },
    ))
}

fn send(connection: &Connection, message: Message) -> Result<(), ServerError> {
    connection
        .sender
        .send(message)
        .map_err(|_| ServerError::Disconnected)
}

/// Opening, editing and closing documents, and files changed on disk; other notifications are
/// not needed.
fn notice(workspace: &mut Workspace, notification: Notification) -> Vec<Publication> {
    match notification.method.as_str() {
        DidOpenTextDocument::METHOD => {
            match serde_json::from_value::<DidOpenTextDocumentParams>(notification.params) {
                Ok(params) => workspace.update(params.text_document.uri, params.text_document.text),
                Err(_) => Vec::new(),
            }
        }
        DidChangeTextDocument::METHOD => {
            match serde_json::from_value::<DidChangeTextDocumentParams>(notification.params) {
                // Full synchronisation: the last change holds the whole text.
                Ok(mut params) => match params.content_changes.pop() {
                    Some(change) => workspace.update(params.text_document.uri, change.text),
                    None => Vec::new(),
                },
                Err(_) => Vec::new(),
            }
        }
        DidCloseTextDocument::METHOD => {
            match serde_json::from_value::<DidCloseTextDocumentParams>(notification.params) {
                Ok(params) => workspace.close(&params.text_document.uri),
                Err(_) => Vec::new(),
            }
        }
        DidChangeWatchedFiles::METHOD => {
            match serde_json::from_value::<DidChangeWatchedFilesParams>(notification.params) {
                Ok(params) => params
                    .changes
                    .into_iter()
                    .flat_map(|change| workspace.changed_on_disk(&change.uri))
                    .collect(),
                Err(_) => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

fn answer(workspace: &Workspace, request: Request) -> Response {
    let id = request.id.clone();
    let result = match request.method.as_str() {
        HoverRequest::METHOD => {
            serde_json::from_value::<HoverParams>(request.params).map(|params| {
                let at = params.text_document_position_params;
                let hover =
                    workspace
                        .document(&at.text_document.uri)
                        .and_then(|(path, kind, text)| {
                            let context = hover::Context {
                                path: &path,
                                kind,
                                workspace,
                            };
                            hover::hover(text, schema_of(kind), at.position, Some(&context))
                        });
                serde_json::to_value(hover)
            })
        }
        Completion::METHOD => {
            serde_json::from_value::<CompletionParams>(request.params).map(|params| {
                let at = params.text_document_position;
                let items = match workspace.document(&at.text_document.uri) {
                    Some((path, kind, text)) => completion::complete(
                        &CompletionRequest {
                            path: Path::new(&path),
                            kind,
                            text,
                            schema: schema_of(kind),
                            position: at.position,
                        },
                        workspace,
                    ),
                    None => Vec::new(),
                };
                serde_json::to_value(CompletionResponse::Array(items))
            })
        }
        DocumentSymbolRequest::METHOD => {
            serde_json::from_value::<DocumentSymbolParams>(request.params).map(|params| {
                let symbols = workspace
                    .document(&params.text_document.uri)
                    .map(|(_, _, text)| outline::symbols(text))
                    .unwrap_or_default();
                serde_json::to_value(DocumentSymbolResponse::Nested(symbols))
            })
        }
        GotoDefinition::METHOD => serde_json::from_value::<GotoDefinitionParams>(request.params)
            .map(|params| {
                let at = params.text_document_position_params;
                let found = match workspace.document(&at.text_document.uri) {
                    Some((path, kind, text)) => {
                        goto::definition(&path, kind, text, at.position, workspace)
                    }
                    None => Vec::new(),
                };
                serde_json::to_value(GotoDefinitionResponse::Array(found))
            }),
        CodeActionRequest::METHOD => serde_json::from_value::<CodeActionParams>(request.params)
            .map(|params| {
                let uri = params.text_document.uri;
                let actions = match workspace.document(&uri) {
                    Some((_, _, text)) => {
                        quick_fix::quick_fixes(&uri, text, &params.context.diagnostics)
                    }
                    None => Vec::new(),
                };
                serde_json::to_value(actions)
            }),
        _ => {
            return Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("provider-forge lsp does not handle {}", request.method),
            );
        }
    };
    match result {
        Ok(Ok(value)) => Response::new_ok(id, value),
        Ok(Err(error)) | Err(error) => {
            Response::new_err(id, ErrorCode::InvalidParams as i32, error.to_string())
        }
    }
}

/// The schema a document of `kind` is checked against, generated once.
fn schema_of(kind: FileKind) -> &'static Value {
    static PROVIDER: OnceLock<Value> = OnceLock::new();
    static SET: OnceLock<Value> = OnceLock::new();
    match kind {
        FileKind::Provider => PROVIDER.get_or_init(schema::provider_schema),
        FileKind::DataCenterSet => SET.get_or_init(schema::data_center_set_schema),
    }
}
