//! Reading a submitted connect form, and checking it against the questions the page asked.
//!
//! The body is `application/x-www-form-urlencoded`, as a browser posts a form without
//! JavaScript. Only the fields the page offered are read (the first value of each; anything
//! else is ignored), and each is checked on the server as if the browser had checked nothing:
//! a choice must be one of the values offered; a connection parameter goes through the same
//! check the engine makes before it builds a URL ([`check_param`]: required, pattern, kind,
//! allowed values); a credential goes through the request fillers' own check
//! ([`check_credential`]: given unless optional or defaulted, pattern, no control character).
//! Every refused field gets its own message in one answer, so the page shows each next to its
//! field rather than one per submission. Whether the provider accepts the credentials is
//! learnt when the flow makes the connection.

use std::collections::BTreeMap;

use super::model::{
    CREDENTIAL_PREFIX, ConnectForm, DATA_CENTER_FIELD, ENVIRONMENT_FIELD, Entered, PARAM_PREFIX,
    Refusals, sentence_case,
};
use crate::resolve::connection::{
    ConnectionError, CredentialValues, check_credential, check_param,
};

/// A submission that passed every check.
#[derive(Debug, Clone, Default)]
pub(crate) struct Answers {
    /// The data center chosen, when the page offered a choice.
    pub(crate) data_center: Option<String>,
    /// The environment chosen, when the page offered a choice.
    pub(crate) environment: Option<String>,
    /// Connection parameters typed (empty fields left out, so defaults apply).
    pub(crate) params: BTreeMap<String, String>,
    /// Credentials typed (empty fields left out, so defaults apply).
    pub(crate) credentials: CredentialValues,
}

/// The fields of a form body: the first value of each name.
pub(crate) fn read(body: &[u8]) -> Entered {
    let mut fields = Entered::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        fields
            .entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    fields
}

/// Checks `entered` against `form`: the answers, or a message for each refused field.
pub(crate) fn check(form: &ConnectForm<'_>, entered: &Entered) -> Result<Answers, Refusals> {
    let mut answers = Answers::default();
    let mut refused = Refusals::default();
    let given = |field: &str| {
        entered
            .get(field)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    };
    if form.data_centers.is_empty() {
        answers.data_center.clone_from(&form.implied_data_center);
    } else {
        let chosen = given(DATA_CENTER_FIELD)
            .and_then(|value| form.data_centers.iter().find(|dc| dc.value == value));
        match chosen {
            Some(option) => answers.data_center.clone_from(&option.data_center),
            _ => {
                refused.fields.insert(
                    DATA_CENTER_FIELD.to_owned(),
                    "Choose one of the listed regions.".to_owned(),
                );
            }
        }
    }
    if !form.environments.is_empty() {
        match given(ENVIRONMENT_FIELD) {
            Some(name) if form.environments.iter().any(|e| e == name) => {
                answers.environment = Some(name.to_owned());
            }
            _ => {
                refused.fields.insert(
                    ENVIRONMENT_FIELD.to_owned(),
                    "Choose one of the listed environments.".to_owned(),
                );
            }
        }
    }
    for (name, declared) in &form.params {
        let field = format!("{PARAM_PREFIX}{name}");
        let value = given(&field);
        match check_param(form.provider, name, value) {
            Ok(()) => {
                if let Some(value) = value {
                    answers.params.insert((*name).to_owned(), value.to_owned());
                }
            }
            Err(error) => {
                let message = match error {
                    ConnectionError::Missing { .. } => "Enter a value.".to_owned(),
                    ConnectionError::Invalid { reason, .. } => {
                        format!("{reason}; for example `{}`.", declared.example)
                    }
                    other => other.to_string(),
                };
                refused.fields.insert(field, message);
            }
        }
    }
    for (name, declared) in &form.credentials {
        let field = format!("{CREDENTIAL_PREFIX}{name}");
        // A secret is taken exactly as typed; other values without surrounding blanks.
        let value = if declared.secret {
            entered
                .get(&field)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        } else {
            given(&field)
        };
        match check_credential(form.provider, name, value) {
            Ok(()) => {
                if let Some(value) = value {
                    answers.credentials.insert(*name, value);
                }
            }
            Err(error) => {
                let message = match error {
                    ConnectionError::MissingCredential { .. } => "Enter a value.".to_owned(),
                    ConnectionError::InvalidCredential { reason, .. } => {
                        let example = declared
                            .example
                            .as_ref()
                            .map(|example| format!("; for example `{example}`"))
                            .unwrap_or_default();
                        format!("{}{example}.", sentence_case(&reason))
                    }
                    other => other.to_string(),
                };
                refused.fields.insert(field, message);
            }
        }
    }
    if refused.is_empty() {
        Ok(answers)
    } else {
        Err(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_value_of_each_field_is_read() {
        let fields = read(b"param.tenant=a%2Bb&param.tenant=evil&csrf=x&credential.apiKey=sk+1");
        assert_eq!(fields["param.tenant"], "a+b");
        assert_eq!(fields["credential.apiKey"], "sk 1");
        assert_eq!(fields["csrf"], "x");
    }
}
