"""Settings: flags > CUSTOMCD_* environment > customcd.toml > defaults; clear errors."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from customcd.config import load_config
from customcd.contract.problems import ConfigurationError
from customcd.delivery.transport import Endpoint

TOML = """
url = "https://toml.example.com:443"
company_id = "100"
deadline = 12
strict = true

[job]
job_type = "Deploy"

[optional]
team = "payments"
weight = {value = 2.5, type = "float"}

[status_map]
UNSTABLE = "Failed"

[[route]]
match = { job_name = "deploy-*" }
service_id = 7

[adapters.gitlab]
job_type_from = "environment"
"""


def write(tmp_path, text=TOML, name="customcd.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_precedence(tmp_path):
    write(tmp_path)
    config = load_config({}, {}, cwd=tmp_path)
    assert (config.url, config.company_id, config.deadline, config.strict) == (
        "https://toml.example.com:443",
        "100",
        12.0,
        True,
    )
    env = {"CUSTOMCD_URL": "https://env.example.com", "CUSTOMCD_DEADLINE": "20"}
    config = load_config({}, env, cwd=tmp_path)
    assert config.url == "https://env.example.com" and config.deadline == 20.0
    config = load_config({"url": "https://flag.example.com", "deadline": None}, env, cwd=tmp_path)
    assert config.url == "https://flag.example.com" and config.deadline == 20.0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert load_config({}, {}, cwd=empty).deadline == 30.0


def test_tables(tmp_path):
    write(tmp_path)
    config = load_config({}, {}, cwd=tmp_path)
    assert config.job_defaults == {"job_type": "Deploy"}
    assert config.optional["team"] == "payments"
    assert config.status_map == {"UNSTABLE": "Failed"}
    assert config.routes[0].service_id == 7 and config.routes[0].matches({"job_name": "deploy-x"})
    assert not config.routes[0].matches({"job_name": "build"})
    assert not config.routes[0].matches({})
    assert config.adapter_options["gitlab"]["job_type_from"] == "environment"


def test_config_flag_and_missing_file(tmp_path):
    path = write(tmp_path, 'url = "https://other.example.com"\n', "other.toml")
    assert load_config({"config": str(path)}, {}).url == "https://other.example.com"
    assert load_config({}, {"CUSTOMCD_CONFIG": str(path)}).url == "https://other.example.com"
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_config({"config": str(tmp_path / "nope.toml")}, {})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("url = [", "not valid TOML"),
        ("uri = 'x'", "unknown key(s) uri"),
        ("[job]\nstatus = 'x'", "[job] may set"),
        ("[[route]]\nmatch = {a = 1}", "glob patterns"),
        ("[[route]]\nservice_id = 'seven'", "positive integer"),
        ("[[route]]\nsevice_id = 7", "unknown keys"),
        ("deadline = -1", "more than 0"),
        ("deadline = 'soon'", "not a number"),
        ("strict = 'maybe'", "yes/no"),
    ],
)
def test_bad_config_files(tmp_path, text, message):
    write(tmp_path, text)
    with pytest.raises(ConfigurationError) as info:
        load_config({}, {}, cwd=tmp_path)
    assert message in str(info.value)


def test_token_sources(tmp_path):
    assert load_config({}, {"CUSTOMCD_TOKEN": "abc"}).token.get_secret_value() == "abc"
    token_file = tmp_path / "token"
    token_file.write_text("from-file\nsecond line ignored\n")
    config = load_config({"token_file": str(token_file)}, {"CUSTOMCD_TOKEN": "abc"})
    assert config.token.get_secret_value() == "from-file"
    assert "from-file" not in repr(config)
    with pytest.raises(ConfigurationError, match="cannot read the token file"):
        load_config({"token_file": str(tmp_path / "missing")}, {})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigurationError, match="is empty"):
        load_config({"token_file": str(tmp_path / "empty")}, {})


def test_outbox_location(tmp_path):
    assert (
        load_config({}, {"CUSTOMCD_OUTBOX": str(tmp_path)}).outbox_path
        == tmp_path / "outbox.sqlite3"
    )
    assert (
        load_config({}, {"CUSTOMCD_OUTBOX": str(tmp_path / "x.db")}).outbox_path
        == tmp_path / "x.db"
    )
    default = load_config({}, {"XDG_STATE_HOME": str(tmp_path)}).outbox_path
    assert default.name == "outbox.sqlite3" and "customcd" in default.parts


def test_ca_bundle_from_standard_variables():
    assert load_config({}, {"SSL_CERT_FILE": "/etc/ca.pem"}).ca_bundle == "/etc/ca.pem"
    assert load_config({}, {"REQUESTS_CA_BUNDLE": "/etc/r.pem"}).ca_bundle == "/etc/r.pem"
    assert (
        load_config({"ca_bundle": "/x.pem"}, {"SSL_CERT_FILE": "/etc/ca.pem"}).ca_bundle == "/x.pem"
    )
    assert load_config({}, {"SSL_CERT_DIR": "/etc/certs"}).ca_dir == "/etc/certs"


@pytest.mark.parametrize(
    ("url", "company", "message"),
    [
        ("", "1", "no Allstacks URL"),
        ("https://a.example.com", "", "no company id"),
        ("ftp://a.example.com", "1", "not a URL like"),
        ("https://", "1", "not a URL like"),
        ("https://user:pw@a.example.com", "1", "credentials"),
        ("https://a.example.com:99999", "1", "malformed"),
        ("http://allstacks.example.com", "1", "refusing plain http"),
        ("https://a.example.com/?x=1", "1", "query"),
    ],
)
def test_endpoint_rules(url, company, message):
    with pytest.raises(ConfigurationError) as info:
        Endpoint.parse(url, company)
    assert message in str(info.value)
    assert "pw" not in str(info.value)


def test_endpoint_urls():
    assert (
        Endpoint.parse("https://a.example.com:8443/", "42").job_url
        == "https://a.example.com:8443/webhook/company/42/cicd_job"
    )
    assert Endpoint.parse("http://127.0.0.1:9", "1").job_url.startswith("http://127.0.0.1:9/")
    assert Endpoint.parse("http://localhost:9", "1").url == "http://localhost:9"
    assert Endpoint.parse("http://[::1]:9", "1").url == "http://[::1]:9"
    assert Endpoint.parse("http://ci.internal", "1", allow_http=True).url == "http://ci.internal"


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: Path("/dev/zero"), "not a regular file"),
        (lambda p: (os.mkfifo(p / "fifo"), p / "fifo")[1], "not a regular file"),
        (lambda p: p, "not a regular file"),
        (lambda p: (p / "big").write_text("t" * 5000) and p / "big", "larger than 4096 bytes"),
        (lambda p: (p / "bin").write_bytes(b"\xff\xfe") and p / "bin", "not UTF-8"),
    ],
)
def test_a_token_file_that_is_not_a_small_regular_file_is_refused_at_once(tmp_path, make, said):
    """/dev/zero used to end in MemoryError and a FIFO hung outside the deadline."""
    path = make(tmp_path)
    started = time.monotonic()
    with pytest.raises(ConfigurationError, match=said) as info:
        load_config({"token_file": str(path)}, {})
    assert str(path) in str(info.value)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("url", "company", "job_url"),
    [
        (
            "https://app.example.com/webhook/company/12/cicd_job",
            "",
            "https://app.example.com/webhook/company/12/cicd_job",
        ),
        (
            "https://app.example.com:8443/api/webhook/company/12/cicd_job/",
            "12",
            "https://app.example.com:8443/api/webhook/company/12/cicd_job",
        ),
    ],
)
def test_a_full_webhook_url_is_understood_as_its_base_and_company(url, company, job_url):
    """Pasting the whole webhook URL used to double the path and get a 404 "rejected"."""
    endpoint = Endpoint.parse(url, company)
    assert endpoint.job_url == job_url and endpoint.company_id == "12"


@pytest.mark.parametrize(
    ("url", "company", "said"),
    [
        (
            "https://app.example.com/webhook/company/12/cicd_job",
            "13",
            "full webhook URL of company",
        ),
        ("https://app.example.com/webhook/company/12", "12", "holds part of the webhook path"),
    ],
)
def test_a_webhook_url_that_does_not_fit_says_exactly_what_to_set(url, company, said):
    with pytest.raises(ConfigurationError, match=said) as info:
        Endpoint.parse(url, company)
    assert "scheme://server:port only" in str(info.value)


def test_a_full_webhook_url_delivers_end_to_end(customcd_cli, customcd_env, customcd_receiver):
    env = {**customcd_env, "CUSTOMCD_URL": customcd_receiver.endpoint}
    del env["CUSTOMCD_COMPANY_ID"]
    result = customcd_cli(
        [
            "send",
            "--adapter",
            "none",
            "--job-id",
            "5",
            "--commit-sha",
            "a" * 40,
            "--service-id",
            "2",
            "--repo-name",
            "acme/shop",
            "--start-time",
            "1704018030",
            "--duration",
            "5",
            "--status",
            "Succeeded",
        ],
        env=env,
    )
    assert "delivered job '5'" in result.stderr, result.stderr
    assert [r["job_id"] for r in customcd_receiver.accepted] == ["5"]
