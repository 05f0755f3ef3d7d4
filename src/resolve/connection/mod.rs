//! Connection values: what each connection supplies (`<subdomain>`, `<tenant>`) or learns
//! during the flow (`<instance_url>`).
//!
//! At resolve time their declarations are checked (anchored, compiling pattern; default and
//! example that match it; no clash with a data-center placeholder; used somewhere; never used
//! before the flow knows them) and the table keeps them as `<name>`. At run time [`fill`] is the
//! one function that puts a connection's values into a resolved table: it checks each value
//! against its pattern and kind, expands through the same `template::expand` resolution uses,
//! and re-checks every URL it built (https, a valid DNS host, and the template's literal host
//! kept), so no value can move a request to a host the definition did not intend.
//!
//! The two phases live apart: `declare` checks the declarations at resolve time, [`fill()`]
//! is the run-time side, and `request` fills one API call or token request with the
//! connection's credentials too ([`fill_api_request`], [`fill_token_request`]).

mod declare;
mod fill;
mod request;

pub use declare::{ACCESS_TOKEN, Stage};
pub(super) use declare::{LateName, LateNames, declarations, inputs};

pub use fill::{ConnectionError, ConnectionValues, check_param, fill};
pub use request::{
    ApiRequest, CredentialValues, Filled, TokenRequest, VerifyCall, check_credential,
    fill_api_request, fill_token_request, fill_verify_request,
};
