"""Settings: file + environment, secrets, durations, and readable errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from offboard.core.accounts import AccountClass
from offboard.core.policy import ActionKind
from offboard.settings import ConfigError, load_settings, parse_duration


def test_file_and_environment_are_merged(config_file: Path) -> None:
    settings = load_settings(config_file)
    assert settings.keycloak.realm == "staff"
    assert settings.keycloak.client_secret is not None
    assert settings.keycloak.client_secret.get_secret_value() == "kc-secret-value"
    assert settings.atlassian.base_url == "https://api.atlassian.com"
    assert settings.daemon.poll_interval == timedelta(seconds=1)


def test_environment_overrides_the_file(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARD_KEYCLOAK__REALM", "other")
    monkeypatch.setenv("OFFBOARD_POLICY__THRESHOLDS__MAX_DEACTIVATIONS", "3")
    settings = load_settings(config_file)
    assert settings.keycloak.realm == "other"
    assert settings.policy.thresholds.max_deactivations == 3


def test_secret_from_file(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "key"
    secret.write_text("from-a-file\n", encoding="utf-8")
    monkeypatch.delenv("OFFBOARD_ATLASSIAN__API_KEY")
    monkeypatch.setenv("OFFBOARD_ATLASSIAN__API_KEY_FILE", str(secret))
    settings = load_settings(config_file)
    assert settings.atlassian.api_key is not None
    assert settings.atlassian.api_key.get_secret_value() == "from-a-file"


def test_env_only_configuration_needs_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "KEYCLOAK__BASE_URL": "https://sso",
        "KEYCLOAK__REALM": "r",
        "KEYCLOAK__CLIENT_SECRET": "s",
        "ATLASSIAN__ORG_ID": "o",
        "ATLASSIAN__API_KEY": "k",
    }.items():
        monkeypatch.setenv(f"OFFBOARD_{name}", value)
    assert load_settings().keycloak.base_url == "https://sso"


@pytest.mark.parametrize(
    ("toml_extra", "expected"),
    [
        ("[policy]\ngrace_period = 'soon'\n", "policy.grace_period:"),
        ("[policy.thresholds]\nmax_deactivations = -1\n", "policy.thresholds.max_deactivations:"),
        ("[keycloak2]\nx = 1\n", "keycloak2: unknown key"),
        ("[daemon]\nlisten_port = 70000\n", "daemon.listen_port:"),
        ("[policy]\nactions = { managed = 'explode' }\n", "policy.actions.managed:"),
        ("[store]\npath = 'a.db'\nurl = 'sqlite://'\n", "store.url: set store.path or store.url"),
        ("[keycloak.extra]\nx = 1\n", "keycloak.extra: unknown key"),
        ("[daemon]\nlease_ttl = 0\n", "lease_ttl: must be longer than zero"),
        ("[daemon]\nlease_ttl = -3\n", "lease_ttl: '-3' is negative"),
        ("[daemon]\npoll_interval = '0s'\n", "poll_interval: must be longer than zero"),
        ("[daemon]\nreconcile_interval = -1\n", "reconcile_interval: '-1' is negative"),
        ("[daemon]\nreconfirm_after = '-1s'\n", "reconfirm_after: '-1s' is negative"),
    ],
)
def test_every_problem_names_its_key(config_file: Path, toml_extra: str, expected: str) -> None:
    config_file.write_text(config_file.read_text() + toml_extra, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    assert expected in str(caught.value)


def test_missing_secret_says_where_to_put_it(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OFFBOARD_KEYCLOAK__CLIENT_SECRET")
    with pytest.raises(ConfigError, match=r"keycloak\.client_secret: missing"):
        load_settings(config_file)


def test_tls_verification_cannot_be_turned_off(config_file: Path) -> None:
    config_file.write_text(
        config_file.read_text().replace('realm = "staff"', 'realm = "staff"\nverify_tls = false')
    )
    with pytest.raises(ConfigError, match=r"keycloak\.verify_tls"):
        load_settings(config_file)


def test_a_secret_value_never_appears_in_an_error(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFBOARD_KEYCLOAK__PAGE_SIZE", "hunter2-not-a-number")
    monkeypatch.setenv("OFFBOARD_ATLASSIAN__API_KEY_FILE", "/nonexistent")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    text = str(caught.value)
    assert "atl-key-value" not in text
    assert "hunter2" not in text
    assert "atlassian.api_key: set api_key or api_key_file, not both" in text


def test_malformed_toml_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[keycloak\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(bad)


def test_missing_file_points_at_config_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="offboard config init"):
        load_settings(tmp_path / "nope.toml")


def test_policy_maps_onto_the_core_policy(config_file: Path) -> None:
    config_file.write_text(
        config_file.read_text()
        + "key_owner_account_id = 'owner-1'\n"
        + "scim_directory_id = 'dir-9'\nscim_api_key = 'scim'\n"
        + "[policy]\ndomains = ['Example.COM']\ngrace_period = '2h'\ndelete_after = '30d'\n"
        + "actions = { google_synced = 'none' }\n"
        + "[policy.thresholds]\nmax_deactivation_percent = 5\n",
        encoding="utf-8",
    )
    policy = load_settings(config_file).policy_model()
    assert policy.domains == frozenset({"example.com"})
    assert policy.grace_period == timedelta(hours=2)
    assert policy.delete_after == timedelta(days=30)
    assert policy.action_for(AccountClass.GOOGLE_SYNCED) is None
    assert policy.action_for(AccountClass.MANAGED) is ActionKind.DEACTIVATE  # default kept
    assert "owner-1" in policy.protected_account_ids
    assert policy.scim_directory_configured
    assert policy.thresholds.max_deactivation_percent == 5


@pytest.mark.parametrize(
    ("given", "seconds"),
    [(0, 0), ("0", 0), ("30s", 30), ("15m", 900), ("2h", 7200), ("7d", 604800), ("1w", 604800)],
)
def test_durations(given: object, seconds: int) -> None:
    assert parse_duration(given) == timedelta(seconds=seconds)


@pytest.mark.parametrize("given", [90, "15", 1.5, " 15 "])
def test_a_duration_needs_a_unit(given: object) -> None:
    with pytest.raises(ValueError, match=r"has no unit: write e\.g\. \"15s\"|no unit"):
        parse_duration(given)


def test_grace_period_without_unit_is_a_configuration_error(config_file: Path) -> None:
    config_file.write_text(config_file.read_text() + '[policy]\ngrace_period = "15"\n')
    with pytest.raises(ConfigError, match=r'policy\.grace_period: .*"15s" or "15m"'):
        load_settings(config_file)


@pytest.mark.parametrize("given", ["1e30s", "99999d", "1000w"])
def test_an_absurd_duration_is_refused_not_an_overflow(given: object) -> None:
    with pytest.raises(ValueError, match="longer than ten years"):
        parse_duration(given)


def test_a_list_in_the_environment_that_is_not_json(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFBOARD_POLICY__DOMAINS", "example.com,example.org")
    with pytest.raises(ConfigError, match=r"OFFBOARD_POLICY__DOMAINS: not valid JSON") as error:
        load_settings(config_file)
    assert "SettingsError" not in str(error.value)


def test_plain_http_only_to_loopback(config_file: Path) -> None:
    text = config_file.read_text()
    config_file.write_text(text.replace("https://sso.example.com", "http://sso.example.com"))
    with pytest.raises(ConfigError, match=r"keycloak\.base_url: use https://"):
        load_settings(config_file)
    config_file.write_text(text.replace("https://sso.example.com", "http://127.0.0.1:8080/"))
    assert load_settings(config_file).keycloak.base_url == "http://127.0.0.1:8080"


def test_provisioning_attributes_must_be_ones_atlassian_takes() -> None:
    from offboard.settings.provisioning import ProvisioningSettings

    assert ProvisioningSettings(attributes={"title": "jobTitle"}).attributes == {
        "title": "jobTitle"
    }
    with pytest.raises(ValueError, match="shoeSize not taken by Atlassian"):
        ProvisioningSettings(attributes={"shoeSize": "size"})
    with pytest.raises(ValueError, match="not a group path"):
        ProvisioningSettings(groups=("devs",))


def test_provisioning_budget_settings_are_checked_and_become_the_budgets() -> None:
    from offboard.settings.provisioning import ProvisioningBudgetSettings, ProvisioningSettings

    chosen = ProvisioningSettings.model_validate(
        {"budget": {"creates_per_hour": 10, "creates_per_day": 30}}
    )
    budgets = chosen.budget.models()
    assert [w.max_actions for w in budgets["provisioning-creates"].windows] == [10, 30]
    assert [w.max_actions for w in budgets["provisioning-membership-removals"].windows] == [
        100,
        400,
    ]
    assert ProvisioningBudgetSettings().updates_per_day == 2000
    with pytest.raises(ValueError, match=r"creates_per_day \(5\) is below creates_per_hour"):
        ProvisioningBudgetSettings(creates_per_hour=10, creates_per_day=5)
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        ProvisioningBudgetSettings(membership_removals_per_hour=-1)


@pytest.mark.parametrize(
    "pasted",
    [
        "https://sso.example.com/admin",
        "https://sso.example.com/admin/master/console/",
        "https://sso.example.com/realms/staff",
        "https://sso.example.com/auth/realms/staff/",
        "https://sso.example.com/auth/admin/realms/staff",
    ],
)
def test_a_keycloak_url_pasted_from_the_console_names_the_root_to_give(
    config_file: Path, pasted: str
) -> None:
    # /admin answered the token request 401 ("refused the client credentials"): misleading.
    text = config_file.read_text()
    config_file.write_text(text.replace('"https://sso.example.com"', f'"{pasted}"'))
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    assert "keycloak.base_url:" in str(caught.value)
    assert "the server's root URL" in str(caught.value)


def test_a_relative_path_of_the_server_is_kept(config_file: Path) -> None:
    text = config_file.read_text()
    config_file.write_text(text.replace("https://sso.example.com", "https://sso.example.com/auth"))
    assert load_settings(config_file).keycloak.base_url == "https://sso.example.com/auth"


def test_a_misspelt_key_names_the_key_meant(config_file: Path) -> None:
    text = config_file.read_text()
    config_file.write_text(text.replace("[keycloak]", "[keycloak]\nclient_secret_fle = 'x'"))
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    assert "keycloak.client_secret_fle: unknown key; did you mean client_secret_file?" in str(
        caught.value
    )


@pytest.mark.parametrize("path", ["/staff/", "//staff", "/staff//eng"])
def test_a_group_path_with_an_empty_segment_is_refused(config_file: Path, path: str) -> None:
    # "/staff/" found the group, yet its members' paths read "/staff": each looked as if
    # they had left the scope, and only a count guard held their deactivation.
    text = config_file.read_text()
    config_file.write_text(text.replace("[keycloak]", f"[keycloak]\nscope_groups = ['{path}']"))
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    written = "/" + "/".join(part for part in path.split("/") if part)
    assert f"keycloak.scope_groups: {path!r} is not a group path: write {written!r}" in str(
        caught.value
    )


def test_a_provisioned_group_path_with_a_trailing_slash_is_refused(config_file: Path) -> None:
    text = config_file.read_text() + "\n[provisioning]\ngroups = ['/team/devs/']\n"
    config_file.write_text(text)
    with pytest.raises(ConfigError, match=r"provisioning.groups: '/team/devs/' is not a group"):
        load_settings(config_file)


def test_a_number_given_with_a_unit_says_to_write_digits(config_file: Path) -> None:
    # pydantic's "unable to parse string as a number" left the admin guessing what to write.
    text = config_file.read_text().replace("[keycloak]", "[keycloak]\ntimeout = '30s'")
    config_file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    assert "keycloak.timeout: not a number: write digits only, without quotes or a unit" in str(
        caught.value
    )
