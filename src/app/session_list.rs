//! The session list's own state: the create form, the rename field and the delete
//! confirmation (the sessions themselves are the model's).

use crate::app::Problem;
use crate::protocol::SessionId;
use crate::spec::{SessionKind, SessionSpec};

/// The left panel's state.
#[derive(Debug, Default)]
pub struct SessionList {
    /// The create form, when open.
    pub create_form: Option<CreateForm>,
    /// The session being renamed and the name typed so far.
    pub renaming: Option<(SessionId, String)>,
    /// The session whose deletion waits for a confirmation.
    pub confirm_delete: Option<SessionId>,
    /// A session to scroll into view on the next frame (just created or edited).
    pub scroll_to: Option<SessionId>,
}

/// The create-session form, also used to edit a session's address, port and options.
#[derive(Debug, Clone)]
pub struct CreateForm {
    /// The kind being created.
    pub kind: SessionKind,
    /// The session being edited (`None`: a new one is created).
    pub editing: Option<SessionId>,
    /// Host field.
    pub host: String,
    /// Port field.
    pub port: String,
    /// Options field, written as in a spec (`insecure,timeout=3000`); shown only for kinds
    /// that take options.
    pub options: String,
    /// Why the last submit was refused.
    pub error: Option<Problem>,
}

impl CreateForm {
    /// A form with the kind's defaults (servers 0.0.0.0:6001, clients 127.0.0.1:6001).
    pub fn new(kind: SessionKind) -> Self {
        Self {
            kind,
            editing: None,
            host: kind.default_host().to_string(),
            port: "6001".to_string(),
            options: String::new(),
            error: None,
        }
    }

    /// The form editing session `id`, filled from its spec.
    pub fn edit(id: SessionId, spec: &SessionSpec) -> Self {
        Self {
            kind: spec.kind,
            editing: Some(id),
            host: spec.host.clone(),
            port: spec.port.to_string(),
            options: spec.options_text(),
            error: None,
        }
    }

    /// The spec the fields describe, or why they do not make one.
    ///
    /// # Errors
    /// [`Problem::Form`] with the spec's own reason.
    pub fn spec(&self) -> Result<SessionSpec, Problem> {
        SessionSpec::from_form_with_options(self.kind, &self.host, &self.port, &self.options)
            .map_err(Problem::Form)
    }
}
