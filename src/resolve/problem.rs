//! A problem found while checking or resolving a definition, before it is placed in a file.

use crate::diagnostics::{Anchor, Diagnostic, Kind, Locator};

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
    /// What kind of problem it is.
    pub kind: Kind,
    /// JSON pointer of the offending node.
    pub pointer: String,
    /// Whether to point at the node's key or its value.
    pub anchor: Anchor,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// Other places that explain the problem (the first of two duplicates).
    pub related: Vec<Related>,
    /// A likely mistake that does not make the file invalid.
    pub warning: bool,
}

/// A secondary place of a [`Problem`], shown as a label of its diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// The node.
    pub place: Place,
    /// Whether to point at its key or its value.
    pub anchor: Anchor,
    /// What it has to do with the problem (`first defined here`).
    pub message: String,
}

impl Problem {
    /// A problem of `kind` in the provider file.
    pub fn provider(
        kind: Kind,
        pointer: impl Into<String>,
        anchor: Anchor,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            origin: Origin::Provider,
            kind,
            pointer: pointer.into(),
            anchor,
            message: message.into(),
            hint: None,
            related: Vec::new(),
            warning: false,
        }
    }

    /// The same problem with a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same problem as a warning: reported, but the file stays valid.
    pub fn as_warning(mut self) -> Self {
        self.warning = true;
        self
    }

    /// The same problem with a secondary place that explains it.
    pub fn related(mut self, place: Place, anchor: Anchor, message: impl Into<String>) -> Self {
        self.related.push(Related {
            place,
            anchor,
            message: message.into(),
        });
        self
    }

    /// A problem of `kind` at a place that may be in either file.
    pub fn at(kind: Kind, place: &Place, anchor: Anchor, message: impl Into<String>) -> Self {
        Problem::provider(kind, place.pointer.clone(), anchor, message).in_origin(place.origin)
    }

    /// The same problem, placed in another file.
    pub fn in_origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    /// Places the problem, and its related places, in their files.
    pub fn locate(&self, provider: &Locator<'_>, set: Option<&Locator<'_>>) -> Diagnostic {
        let locator = |origin| match (origin, set) {
            (Origin::DataCenterSet, Some(set)) => set,
            _ => provider,
        };
        let mut diagnostic = locator(self.origin).diagnostic(
            self.kind,
            &self.pointer,
            self.anchor,
            self.message.clone(),
            self.hint.clone(),
        );
        if self.warning {
            diagnostic = diagnostic.warning();
        }
        for related in &self.related {
            diagnostic = diagnostic.with_label(locator(related.place.origin).label(
                &related.place.pointer,
                related.anchor,
                related.message.clone(),
            ));
        }
        diagnostic
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
