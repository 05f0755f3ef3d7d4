//! A problem found while checking or resolving a definition, before it is placed in a file.

use crate::diagnostics::{Anchor, Diagnostic, Locator};

/// Which loaded file a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// The provider file.
    Provider,
    /// The shared data-center set the provider uses.
    DataCenterSet,
}

/// A problem with a JSON pointer into the file it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Which file.
    pub origin: Origin,
    /// JSON pointer of the offending node.
    pub pointer: String,
    /// Whether to point at the node's key or its value.
    pub anchor: Anchor,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Problem {
    /// A problem in the provider file.
    pub fn provider(
        pointer: impl Into<String>,
        anchor: Anchor,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            origin: Origin::Provider,
            pointer: pointer.into(),
            anchor,
            message: message.into(),
            hint: None,
        }
    }

    /// The same problem with a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A problem at a place that may be in either file.
    pub fn at(place: &Place, anchor: Anchor, message: impl Into<String>) -> Self {
        Problem::provider(place.pointer.clone(), anchor, message).in_origin(place.origin)
    }

    /// The same problem, placed in another file.
    pub fn in_origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    /// Places the problem in its file.
    pub fn locate(&self, provider: &Locator<'_>, set: Option<&Locator<'_>>) -> Diagnostic {
        let locator = match (self.origin, set) {
            (Origin::DataCenterSet, Some(set)) => set,
            _ => provider,
        };
        locator.diagnostic(
            &self.pointer,
            self.anchor,
            self.message.clone(),
            self.hint.clone(),
        )
    }
}

/// A node in one of the loaded files: the file and a JSON pointer into it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Place {
    /// Which file.
    pub origin: Origin,
    /// JSON pointer of the node.
    pub pointer: String,
}
