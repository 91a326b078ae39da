"""The Helm chart: `helm lint` and `helm template` pass, and the rendered manifests run offboard
locked down (non-root, read-only root, no capabilities, RuntimeDefault seccomp), with probes
on paths the daemon serves, secrets only by reference, and alerts on metrics it exports."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from offboard.server.app import create_app
from offboard.server.metrics import Metrics
from offboard.server.webhook import WebhookReceiver
from offboard.service.status import DaemonStatus
from offboard.settings.loading import Settings
from offboard.settings.runtime import DaemonSettings
from tests.deploy.tools import ROOT, missing, script
from tests.service.fakes import FakeClock

CHART = ROOT / "deploy" / "helm" / "offboard"
REQUIRED = ["--set", "secrets.existingSecret=offboard-credentials"]
WEBHOOKS_ON = ["--set", "secrets.webhookSecretKey=webhook-secret"]
TLS = [*WEBHOOKS_ON, "--set", "webhook.tls.secretName=offboard-webhook-tls"]
WEBHOOKS_OFF = ["--set", "secrets.webhookSecretKey="]
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104  (the pod's: the kubelet, Prometheus and Keycloak reach it)

Manifest = dict[str, Any]
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}


@pytest.fixture(scope="module")
def helm() -> str:
    try:
        return script("helm", timeout=1200).stdout.strip().splitlines()[-1]
    except (subprocess.CalledProcessError, OSError) as error:
        missing("helm", f"scripts/helm could not build it: {error}")
        raise


def render(helm: str, *values: str) -> list[Manifest]:
    """The manifests for the required values, webhooks on with a TLS Secret, and ``values``."""
    done = subprocess.run(
        [helm, "template", "offboard", str(CHART), *REQUIRED, *TLS, *values],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def kinds(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def pod_specs(manifests: list[Manifest]) -> list[dict[str, Any]]:
    return [m["spec"]["template"]["spec"] for m in manifests if m["kind"] in {"Deployment", "Job"}]


@pytest.mark.parametrize("webhooks", [TLS, WEBHOOKS_OFF], ids=["webhooks-on", "webhooks-off"])
def test_helm_lint_passes(helm: str, webhooks: list[str]) -> None:
    done = subprocess.run(
        [helm, "lint", "--strict", str(CHART), *REQUIRED, *webhooks],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_pod_is_locked_down(helm: str) -> None:
    specs = pod_specs(render(helm))
    assert len(specs) == 2  # the daemon and the migration Job
    for spec in specs:
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True
        assert pod["runAsUser"] != 0
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert "add" not in security["capabilities"]
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts  # the only writable places: /tmp and the state volume


def test_secrets_are_only_referenced(helm: str) -> None:
    manifests = render(helm)
    assert kinds(manifests, "Secret") == []
    for spec in pod_specs(manifests):
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["secrets"]["secret"]["secretName"] == "offboard-credentials"
        for volume in volumes.values():
            if "secret" in volume:
                assert volume["secret"]["secretName"] in {
                    "offboard-credentials",
                    "offboard-webhook-tls",
                }
        for env in spec["containers"][0]["env"]:
            if "value" in env:
                assert "secret" not in env["value"].lower() or env["name"].endswith("_FILE")
            else:
                assert env["valueFrom"]["secretKeyRef"]["name"] == "offboard-credentials"


OPTIONAL_SECRETS = {
    "consoleClientSecretKey": ("console", "client_secret_file"),
    "consoleSessionSecretKey": ("console", "session_secret_file"),
    "smtpPasswordKey": ("notifications.email.smtp", "password_file"),
    "licencesSmtpPasswordKey": ("licences.smtp", "password_file"),  # inactivity warnings
    "slackWebhookUrlKey": ("notifications.slack", "url_file"),
    "notifyWebhookUrlKey": ("notifications.webhook", "url_file"),
    "notifyWebhookSigningKeyKey": ("notifications.webhook", "signing_key_file"),
}


def test_console_and_notification_secrets_are_mounted_files_the_settings_read(
    helm: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    keys = [f"secrets.{name}=k-{name}" for name in OPTIONAL_SECRETS]
    daemon = kinds(render(helm, *[a for k in keys for a in ("--set", k)]), "Deployment")[0]
    spec = daemon["spec"]["template"]["spec"]
    items = {i["key"]: i["path"] for v in spec["volumes"] if v["name"] == "secrets"
             for i in v["secret"]["items"]}  # fmt: skip
    env = {e["name"]: e["value"] for e in spec["containers"][0]["env"] if "value" in e}
    mounted: dict[str, Path] = {}
    for name in OPTIONAL_SECRETS:
        path = items[f"k-{name}"]  # the Secret's key is mounted ...
        variable = next(n for n, v in env.items() if v == f"/etc/offboard/secrets/{path}")
        mounted[name] = tmp_path / path
        mounted[name].write_text("https://hooks.example.test/T0/" + "x" * 40)  # URL or secret
        monkeypatch.setenv(variable, str(mounted[name]))  # ... where a real setting reads it
    settings = Settings(
        keycloak={"base_url": "http://127.0.0.1:1", "realm": "r", "client_id": "c",
                  "client_secret": "x"},
        atlassian={"org_id": "o", "api_key": "k"},
    )  # fmt: skip
    for name, (section, field) in OPTIONAL_SECRETS.items():
        node: Any = settings
        for part in section.split("."):
            node = getattr(node, part)
        assert getattr(node, field) == mounted[name], name


def test_optional_secrets_are_not_mounted_unless_named(helm: str) -> None:
    spec = kinds(render(helm), "Deployment")[0]["spec"]["template"]["spec"]
    names = {e["name"] for e in spec["containers"][0]["env"]}
    optional = ("OFFBOARD_CONSOLE", "OFFBOARD_NOTIFICATIONS", "OFFBOARD_LICENCES")
    assert not [n for n in names if n.startswith(optional)]


def test_two_replicas_with_probes_on_the_paths_the_daemon_serves(helm: str) -> None:
    (deployment,) = kinds(render(helm), "Deployment")
    assert deployment["spec"]["replicas"] == 2
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    probes = {
        name: container[name]["httpGet"]["path"]
        for name in ("livenessProbe", "readinessProbe", "startupProbe")
    }
    assert probes == {
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
        "startupProbe": "/healthz",
    }
    app = create_app(
        DaemonStatus(FakeClock()),
        Metrics(),
        WebhookReceiver(b"", lambda event: False),
        readiness_limits={"reconcile": timedelta(1), "vendor": timedelta(1)},
    )
    served = {getattr(route, "path", "") for route in app.routes}
    assert set(probes.values()) <= served
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["OFFBOARD_DAEMON__LISTEN_PORT"] == str(container["ports"][0]["containerPort"])
    assert env["OFFBOARD_STORE__AUTO_MIGRATE"] == "false"  # the hook Job migrates, on purpose


def test_disruption_budget_network_policy_and_service(helm: str) -> None:
    manifests = render(helm)
    (budget,) = kinds(manifests, "PodDisruptionBudget")
    assert budget["spec"]["minAvailable"] == 1
    (policy,) = kinds(manifests, "NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    egress_ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert egress_ports == {53, 443, 5432}
    (service,) = kinds(manifests, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def _store_url_key(manifest: Manifest) -> str:
    (container,) = manifest["spec"]["template"]["spec"]["containers"]
    (env,) = [e for e in container["env"] if e["name"] == "OFFBOARD_STORE__URL"]
    return str(env["valueFrom"]["secretKeyRef"]["key"])


def test_the_migration_job_runs_before_install_and_upgrade_as_the_owner(helm: str) -> None:
    manifests = render(helm, "--set", "migrations.urlKey=owner-url")
    (job,) = kinds(manifests, "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["store", "migrate"]
    assert _store_url_key(job) == "owner-url"  # the schema owner migrates...
    (deployment,) = kinds(manifests, "Deployment")
    assert _store_url_key(deployment) == "store-url"  # ...the daemon only reads and writes rows


def test_monitoring_is_optional_and_alerts_use_exported_metrics(helm: str) -> None:
    assert not kinds(render(helm), "ServiceMonitor")
    assert not kinds(render(helm), "PrometheusRule")
    manifests = render(
        helm,
        "--set", "metrics.serviceMonitor.enabled=true",
        "--set", "metrics.prometheusRule.enabled=true",
    )  # fmt: skip
    (monitor,) = kinds(manifests, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    (rule,) = kinds(manifests, "PrometheusRule")
    exported = {
        family.name + suffix
        for family in Metrics().registry.collect()
        for suffix in _SUFFIXES.get(family.type, ("",))
    }
    for alert in rule["spec"]["groups"][0]["rules"]:
        used = set(re.findall(r"offboard_[a-z_]+", alert["expr"]))
        assert used, alert["alert"]
        assert used <= exported, f"{alert['alert']} uses {used - exported}"


def test_sqlite_means_one_replica_on_a_kept_volume(helm: str) -> None:
    with pytest.raises(subprocess.CalledProcessError) as refused:
        render(helm, "--set", "store.type=sqlite")
    assert "one replica" in refused.value.stderr
    manifests = render(helm, "--set", "store.type=sqlite", "--set", "replicaCount=1")
    (claim,) = kinds(manifests, "PersistentVolumeClaim")
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    (deployment,) = kinds(manifests, "Deployment")
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    assert not kinds(manifests, "Job")
    assert not kinds(manifests, "PodDisruptionBudget")


def test_the_chart_refuses_to_render_without_a_secret_reference(helm: str) -> None:
    done = subprocess.run(
        [helm, "template", "offboard", str(CHART)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "secrets.existingSecret is required" in done.stderr


def _daemon(manifests: list[Manifest]) -> tuple[dict[str, Any], dict[str, Any]]:
    (deployment,) = kinds(manifests, "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    return spec, container


def _env(container: dict[str, Any]) -> dict[str, str | None]:
    return {e["name"]: e.get("value") for e in container["env"]}


def _rules(policy: Manifest) -> dict[str, list[Any] | None]:
    """NetworkPolicy ingress "from" entries by port name (None: from anywhere)."""
    rules: dict[str, list[Any] | None] = {}
    for rule in policy["spec"]["ingress"]:
        (port,) = rule["ports"]
        rules[port["port"]] = rule.get("from")
    return rules


def _daemon_settings(env: dict[str, str | None]) -> DaemonSettings:
    """What the daemon makes of the chart's listener variables (it refuses what cannot work)."""
    return DaemonSettings.model_validate(
        {
            name.removeprefix("OFFBOARD_DAEMON__").lower(): value
            for name, value in env.items()
            if name.startswith("OFFBOARD_DAEMON__") and not name.endswith("WEBHOOK_SECRET_FILE")
        }
    )


def test_webhooks_get_their_own_tls_listener_from_a_mounted_tls_secret(helm: str) -> None:
    spec, container = _daemon(render(helm))
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8080, "webhook": 8443}
    env = _env(container)
    assert env["OFFBOARD_DAEMON__LISTEN_HOST"] == EVERY_ADDRESS
    assert env["OFFBOARD_DAEMON__LISTEN_PORT"] == "8080"
    assert env["OFFBOARD_DAEMON__WEBHOOK_HOST"] == EVERY_ADDRESS
    assert env["OFFBOARD_DAEMON__WEBHOOK_PORT"] == "8443"
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "webhook-tls"]
    assert mount == {"name": "webhook-tls", "mountPath": "/etc/offboard/tls", "readOnly": True}
    assert "subPath" not in mount  # a subPath mount never sees the renewed certificate
    (volume,) = [v for v in spec["volumes"] if v["name"] == "webhook-tls"]
    assert volume["secret"]["secretName"] == "offboard-webhook-tls"
    assert {i["key"]: i["path"] for i in volume["secret"]["items"]} == {
        "tls.crt": "tls.crt",
        "tls.key": "tls.key",
    }
    settings = _daemon_settings(env)  # the daemon accepts what the chart sets
    assert settings.webhook_tls
    assert settings.tls_cert_file == Path(mount["mountPath"], "tls.crt")
    assert settings.tls_key_file == Path(mount["mountPath"], "tls.key")
    assert (settings.listen_port, settings.webhook_port) == (8080, 8443)
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] == "http"  # probes stay on plain 8080


def test_without_a_tls_secret_webhooks_refuse_to_render(helm: str) -> None:
    done = subprocess.run(
        [helm, "template", "offboard", str(CHART), *REQUIRED, *WEBHOOKS_ON],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "webhook.tls.secretName is required while webhooks are on" in done.stderr
    assert 'secrets.webhookSecretKey=""' in done.stderr  # the way out is named


@pytest.mark.parametrize("off", [[], WEBHOOKS_OFF], ids=["by-default", "explicitly"])
def test_webhooks_off_renders_without_tls_and_without_a_webhook_port(
    helm: str, off: list[str]
) -> None:
    done = subprocess.run(
        [helm, "template", "offboard", str(CHART), *REQUIRED, *off],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    manifests = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    spec, container = _daemon(manifests)
    assert [p["name"] for p in container["ports"]] == ["http"]
    env = _env(container)
    assert not {name for name in env if "WEBHOOK" in name or "TLS" in name}
    assert "webhook-tls" not in {v["name"] for v in spec["volumes"]}
    assert not _daemon_settings(env).webhook_tls
    (service,) = kinds(manifests, "Service")
    assert [p["name"] for p in service["spec"]["ports"]] == ["http"]
    (policy,) = kinds(manifests, "NetworkPolicy")
    assert set(_rules(policy)) == {"http"}


def test_the_service_names_both_ports_and_the_monitor_scrapes_http(helm: str) -> None:
    manifests = render(helm, "--set", "metrics.serviceMonitor.enabled=true")
    (service,) = kinds(manifests, "Service")
    ports = {p["name"]: (p["port"], p["targetPort"]) for p in service["spec"]["ports"]}
    assert ports == {"http": (8080, "http"), "webhook": (8443, "webhook")}
    (monitor,) = kinds(manifests, "ServiceMonitor")
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["http"]


def test_the_network_policy_lets_each_source_reach_its_own_port(helm: str) -> None:
    keycloak = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keycloak"}}}
    monitoring = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    }
    manifests = render(
        helm,
        "--set-json", f"networkPolicy.ingressFrom=[{json.dumps(monitoring)}]",
        "--set-json", f"networkPolicy.webhookIngressFrom=[{json.dumps(keycloak)}]",
    )  # fmt: skip
    (policy,) = kinds(manifests, "NetworkPolicy")
    assert _rules(policy) == {"http": [monitoring], "webhook": [keycloak]}
    (default,) = kinds(render(helm), "NetworkPolicy")
    assert _rules(default) == {"http": None, "webhook": None}  # unset: from any pod


def test_what_the_migration_job_needs_exists_before_the_release_does(helm: str) -> None:
    """Pre-install hooks run before any of the release's own objects exist: a Job naming
    the release's ServiceAccount (or ConfigMap) gets no pod on a first install, and the
    install times out. Each object the Job names is a hook of lower weight, or the user's."""
    for values in ([], ["--set", "serviceAccount.name=offboard-runner"]):
        manifests = render(helm, *values)
        (job,) = kinds(manifests, "Job")
        weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
        hooks = {
            (m["kind"], m["metadata"]["name"]): m["metadata"].get("annotations") or {}
            for m in manifests
        }
        spec = job["spec"]["template"]["spec"]
        needed = [("ServiceAccount", spec["serviceAccountName"])]
        needed += [
            ("ConfigMap", v["configMap"]["name"]) for v in spec["volumes"] if "configMap" in v
        ]
        for kind, name in needed:
            annotations = hooks[(kind, name)]
            assert "pre-install" in annotations.get("helm.sh/hook", ""), (kind, name)
            assert int(annotations["helm.sh/hook-weight"]) < weight, (kind, name)
    (job,) = kinds(render(helm, "--set", "serviceAccount.create=false",
                          "--set", "serviceAccount.name=existing"), "Job")  # fmt: skip
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == "existing"  # the user's
