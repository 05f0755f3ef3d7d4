//! Hostile definitions (issue 12, items 5, 6, 7, 10 and 11): what `validate` refuses, and what
//! the outputs escape, read through the catalog's public entry and the binary.

use std::path::Path;
use std::process::Command;

use provider_forge::catalog;
use provider_forge::diagnostics::Diagnostic;
use provider_forge::render::Renderer;
use provider_forge::resolve::ResolvedProvider;

use crate::support::cli::BIN;
use crate::support::repo_path;

fn original(name: &str) -> String {
    std::fs::read_to_string(repo_path(format!("providers/{name}"))).unwrap()
}

/// `edit` applied to a bundled provider (each pair must match), checked as if it were that
/// file: its diagnostics.
fn diagnostics_of(name: &str, edits: &[(&str, &str)]) -> Vec<Diagnostic> {
    let mut text = original(name);
    for (from, to) in edits {
        assert!(text.contains(from), "{from} in {name}");
        text = text.replacen(from, to, 1);
    }
    match catalog::load_one(&repo_path(format!("providers/{name}")), &text).unwrap() {
        catalog::Verdict::Valid(_) => Vec::new(),
        catalog::Verdict::Invalid(diagnostics) => diagnostics,
    }
}

fn shown(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn line_of(name: &str, needle: &str) -> usize {
    original(name)
        .lines()
        .position(|line| line.contains(needle))
        .unwrap()
        + 1
}

#[test]
fn urls_not_written_as_they_will_be_called_are_refused_with_the_normalised_form() {
    let found = diagnostics_of(
        "gitlab.yaml",
        &[
            (
                "url: https://gitlab.com/oauth/token",
                "url: HTTPS://gitlab.com/oauth/token",
            ),
            (
                "url: https://gitlab.com/oauth/authorize",
                "url: \"https://gitlab\u{ff0e}com/oauth/authorize\"",
            ),
            (
                "url: https://gitlab.com/oauth/revoke",
                "url: \"https://gitlab.com/oauth/re\\tvoke\"",
            ),
        ],
    );
    let text = shown(&found);
    assert_eq!(found.len(), 3, "{text}");
    let token = found.iter().find(|d| d.path == "token.url").unwrap();
    assert_eq!(
        token.region.start.line,
        line_of("gitlab.yaml", "url: https://gitlab.com/oauth/token")
    );
    assert!(
        token
            .hint
            .as_deref()
            .unwrap()
            .starts_with("write `https://gitlab.com/oauth/token`"),
        "{text}"
    );
    let revoke = found.iter().find(|d| d.path == "token.revoke.url").unwrap();
    assert!(revoke.message.contains("re\\tvoke"), "{text}");
    assert!(
        revoke
            .hint
            .as_deref()
            .unwrap()
            .starts_with("write `https://gitlab.com/oauth/revoke`"),
        "{text}"
    );
    // Full-width dots are not ASCII: the hint shows the host that would be contacted.
    let authorization = found
        .iter()
        .find(|d| d.path == "authorization.url")
        .unwrap();
    assert!(authorization.message.contains("non-ASCII"), "{text}");
    assert!(
        authorization
            .hint
            .as_deref()
            .unwrap()
            .contains("`gitlab.com`"),
        "{text}"
    );

    let found = diagnostics_of(
        "gitlab.yaml",
        &[(
            "production: https://gitlab.com/api/v4",
            "production: \"https://gitlab.com\\\\api\\\\v4\"",
        )],
    );
    assert_eq!(found.len(), 1, "{}", shown(&found));
    assert_eq!(found[0].path, "api.environments.production");
    assert!(
        found[0]
            .message
            .starts_with("`https://gitlab.com\\api\\v4`"),
        "{}",
        found[0]
    );
    assert!(
        found[0]
            .hint
            .as_deref()
            .unwrap()
            .starts_with("write `https://gitlab.com/api/v4`"),
        "{}",
        found[0]
    );
}

#[test]
fn a_host_with_look_alike_letters_must_be_written_in_punycode() {
    // Cyrillic `а` (U+0430) in place of the Latin `a`.
    let found = diagnostics_of(
        "gitlab.yaml",
        &[(
            "production: https://gitlab.com/api/v4",
            "production: https://gitl\u{430}b.com/api/v4",
        )],
    );
    assert_eq!(found.len(), 1, "{}", shown(&found));
    assert!(found[0].message.contains("non-ASCII"), "{}", found[0]);
    assert!(
        found[0].hint.as_deref().unwrap().contains("`xn--gitlb-"),
        "{}",
        found[0]
    );
}

#[test]
fn docs_url_follows_the_url_rules() {
    let found = diagnostics_of(
        "gitlab.yaml",
        &[(
            "docs_url: https://docs.gitlab.com/api/oauth2/",
            "docs_url: http://evil.example/docs",
        )],
    );
    assert_eq!(found.len(), 1, "{}", shown(&found));
    assert_eq!(found[0].path, "docs_url");
    assert_eq!(
        found[0].region.start.line,
        line_of("gitlab.yaml", "docs_url:")
    );
    assert!(found[0].message.contains("uses http"), "{}", found[0]);
}

#[test]
fn names_with_control_characters_are_refused_at_their_position() {
    let found = diagnostics_of(
        "gitlab.yaml",
        &[
            (
                "display_name: GitLab",
                "display_name: \"GitLab\\nX_A_TOKEN_URL=http://evil.example/steal\"",
            ),
            (
                "description: Read the authenticated user's profile.",
                "description: \"Read the profile.\\r\"",
            ),
        ],
    );
    let text = shown(&found);
    assert_eq!(found.len(), 2, "{text}");
    assert_eq!(found[0].path, "display_name");
    assert_eq!(
        found[0].region.start.line,
        line_of("gitlab.yaml", "display_name:")
    );
    assert_eq!(found[0].region.start.column, "display_name: ".len() + 1);
    assert!(found[0].message.contains("U+000A"), "{text}");
    assert_eq!(found[1].path, "scopes.catalog[2].description");
    assert!(found[1].message.contains("U+000D"), "{text}");
}

#[test]
fn a_data_center_name_with_a_newline_in_the_shared_set_is_placed_in_the_set() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data-centers")).unwrap();
    let set = std::fs::read_to_string(repo_path("providers/data-centers/zoho.yaml")).unwrap();
    let (before, after) = set.split_once("name: Europe").expect("the EU entry");
    std::fs::write(
        dir.path().join("data-centers/zoho.yaml"),
        format!("{before}name: \"Europe\\n# injected\"{after}"),
    )
    .unwrap();
    let provider = dir.path().join("zoho-crm.yaml");
    std::fs::write(&provider, original("zoho-crm.yaml")).unwrap();
    let output = Command::new(BIN)
        .arg("validate")
        .arg(&provider)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("data-centers/zoho.yaml:"), "{stderr}");
    assert!(stderr.contains("U+000A"), "{stderr}");
}

#[test]
fn a_data_center_set_is_a_name_never_a_path() {
    for set in [
        "../gitlab",
        "/etc/passwd",
        "zoho/../../gitlab",
        "Zoho",
        "zoho.yaml",
    ] {
        let found = diagnostics_of(
            "zoho-crm.yaml",
            &[("set: zoho", &format!("set: \"{set}\""))],
        );
        let text = shown(&found);
        assert_eq!(found.len(), 1, "{set}: {text}");
        assert_eq!(found[0].path, "data_centers.set");
        assert!(
            found[0].message.contains("is not a data-center set name"),
            "{text}"
        );
        // Nothing of the file the path names is read, so nothing of it is echoed.
        assert!(found[0].file.ends_with("zoho-crm.yaml"), "{text}");
        assert!(
            !text.contains("gitlab.yaml") && !text.contains("root:"),
            "{text}"
        );
    }
}

fn provider_named(display_name: &str, scope_name: &str, description: &str) -> ResolvedProvider {
    let text = original("gitlab.yaml")
        .replacen(
            "display_name: GitLab",
            &format!("display_name: {display_name:?}"),
            1,
        )
        .replacen("- name: api\n", &format!("- name: {scope_name:?}\n"), 1)
        .replacen(
            "description: Full read and write access to the API, including all groups and projects.",
            &format!("description: {description:?}"),
            1,
        );
    match catalog::load_one(&repo_path("providers/gitlab.yaml"), &text).unwrap() {
        catalog::Verdict::Valid(provider) => provider.resolved,
        catalog::Verdict::Invalid(diagnostics) => panic!("{}", shown(&diagnostics)),
    }
}

fn render(provider: &ResolvedProvider, format: provider_forge::render::Format) -> String {
    Renderer::new()
        .provider(provider, &provider_forge::render::Output::Builtin(format))
        .unwrap()
}

#[test]
fn markdown_escapes_html_links_code_and_cell_breaks_in_what_it_embeds() {
    let provider = provider_named(
        "Git<b>Lab</b> | [click](https://evil.example)",
        "api`|x",
        "all `groups` | <script>alert(1)</script>",
    );
    let markdown = render(&provider, provider_forge::render::Format::Markdown);
    assert!(!markdown.contains("<b>"), "{markdown}");
    assert!(!markdown.contains("<script>"), "{markdown}");
    assert!(!markdown.contains("[click]"), "{markdown}");
    assert!(
        markdown.starts_with("# Git\\<b\\>Lab\\</b\\> \\| \\[click\\](https://evil.example)\n"),
        "{markdown}"
    );
    // The scope row still has exactly its five cell borders.
    let row = markdown
        .lines()
        .find(|line| line.starts_with("| `` api"))
        .expect("the scope row");
    let borders = row.replace("\\|", "").matches('|').count();
    assert_eq!(borders, 5, "{row}");
    assert!(row.starts_with("| `` api`\\|x `` |"), "{row}");
}

#[test]
fn dotenv_comments_and_nango_yaml_keep_embedded_text_inert() {
    let provider = provider_named("Git'Lab $(id) \"q\" # c", "api", "d");
    let env = render(&provider, provider_forge::render::Format::Env);
    assert!(
        env.starts_with("# Git'Lab $(id) \"q\" # c (gitlab): endpoints"),
        "{env}"
    );
    assert!(env.lines().all(|line| line.is_empty()
        || line.starts_with('#')
        || line.starts_with("GITLAB_DEFAULT_")));
    let nango = render(&provider, provider_forge::render::Format::Nango);
    let parsed: serde_yaml::Value = serde_yaml::from_str(&nango).unwrap();
    assert_eq!(
        parsed["gitlab"]["display_name"].as_str(),
        Some("Git'Lab $(id) \"q\" # c")
    );
}

fn user_template(source: &str) -> String {
    let provider = provider_named("GitLab", "api", "d");
    let mut renderer = Renderer::new();
    let output = renderer
        .add_template(Path::new("hostile.j2"), source.to_owned())
        .unwrap();
    renderer
        .provider(&provider, &output)
        .unwrap_err()
        .to_string()
}

#[test]
fn a_looping_template_is_stopped_by_its_fuel() {
    let error = user_template(
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    );
    assert!(error.starts_with("hostile.j2"), "{error}");
    assert!(error.contains("more than 5000000 steps"), "{error}");
}

#[test]
fn a_template_writing_without_end_is_stopped_at_the_output_limit() {
    let error = user_template("{% for i in range(100000) %}{{ \"x\" * 1000 }}{% endfor %}");
    assert!(error.starts_with("hostile.j2"), "{error}");
    assert!(
        error.contains("the output passed 16777216 bytes"),
        "{error}"
    );
}

#[test]
fn the_cli_reports_a_runaway_template_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("loop.j2");
    std::fs::write(
        &template,
        "{% for i in range(10000) %}{% for j in range(10000) %}{{ j }}{% endfor %}{% endfor %}",
    )
    .unwrap();
    let output = Command::new(BIN)
        .arg("render")
        .arg(repo_path("providers/gitlab.yaml"))
        .arg("--template")
        .arg(&template)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("loop.j2"), "{stderr}");
    assert!(output.stdout.is_empty());
}
