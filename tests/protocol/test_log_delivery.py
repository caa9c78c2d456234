"""Log delivery (GetLogDeliveryConfiguration, SetLogDeliveryConfiguration) and the logs it
names, written where `--log-destinations` maps the ARN: a file directory (JSON lines per log
group) and an HTTP endpoint (a local http.server receiving JSON POSTs).

The userNotification log records email delivery errors: the dedicated server's SMTP host
is a port nothing listens on, so the invitation email AdminCreateUser queues fails.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.support.auth import new_client, new_pool, new_user
from tests.support.server import CognateServer, free_port, start_server

LOGS_ARN = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/vendedlogs/pool-messages"
HTTP_ARN = "arn:aws:logs:us-east-1:000000000000:log-group:to-http"
FIREHOSE_ARN = "arn:aws:firehose:us-east-1:000000000000:deliverystream/activity"
S3_ARN = "arn:aws:s3:::activity-bucket"


def _notification(arn: str) -> dict[str, Any]:
    return {
        "EventSource": "userNotification",
        "LogLevel": "ERROR",
        "CloudWatchLogsConfiguration": {"LogGroupArn": arn},
    }


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_round_trip(cognito: Any, pool: dict[str, Any]) -> None:
    empty = cognito.get_log_delivery_configuration(UserPoolId=pool["Id"])
    assert empty["LogDeliveryConfiguration"] == {"UserPoolId": pool["Id"], "LogConfigurations": []}
    answer = cognito.set_log_delivery_configuration(
        UserPoolId=pool["Id"], LogConfigurations=[_notification(LOGS_ARN)]
    )
    expected = {"UserPoolId": pool["Id"], "LogConfigurations": [_notification(LOGS_ARN)]}
    assert answer["LogDeliveryConfiguration"] == expected
    got = cognito.get_log_delivery_configuration(UserPoolId=pool["Id"])
    assert got["LogDeliveryConfiguration"] == expected
    cognito.set_log_delivery_configuration(UserPoolId=pool["Id"], LogConfigurations=[])
    got = cognito.get_log_delivery_configuration(UserPoolId=pool["Id"])
    assert got["LogDeliveryConfiguration"]["LogConfigurations"] == []


def test_user_auth_events_need_plus(cognito: Any, pool: dict[str, Any]) -> None:
    activity = {
        "EventSource": "userAuthEvents",
        "LogLevel": "INFO",
        "FirehoseConfiguration": {"StreamArn": FIREHOSE_ARN},
    }
    with pytest.raises(ClientError) as error:
        cognito.set_log_delivery_configuration(UserPoolId=pool["Id"], LogConfigurations=[activity])
    assert _code(error) == "FeatureUnavailableInTierException"
    plus = cognito.create_user_pool(PoolName="plus", UserPoolTier="PLUS")["UserPool"]
    both = [_notification(LOGS_ARN), activity]
    answer = cognito.set_log_delivery_configuration(UserPoolId=plus["Id"], LogConfigurations=both)
    assert answer["LogDeliveryConfiguration"]["LogConfigurations"] == both
    s3 = {
        "EventSource": "userAuthEvents",
        "LogLevel": "INFO",
        "S3Configuration": {"BucketArn": S3_ARN},
    }
    cognito.set_log_delivery_configuration(UserPoolId=plus["Id"], LogConfigurations=[s3])
    got = cognito.get_log_delivery_configuration(UserPoolId=plus["Id"])
    assert got["LogDeliveryConfiguration"]["LogConfigurations"] == [s3]


def test_validation(cognito: Any, pool: dict[str, Any]) -> None:
    plus = cognito.create_user_pool(PoolName="plus", UserPoolTier="PLUS")["UserPool"]["Id"]
    bad: list[list[dict[str, Any]]] = [
        [{**_notification(LOGS_ARN), "LogLevel": "INFO"}],  # notifications are ERROR level
        [  # notifications go only to CloudWatch Logs
            {
                "EventSource": "userNotification",
                "LogLevel": "ERROR",
                "S3Configuration": {"BucketArn": S3_ARN},
            }
        ],
        [_notification(LOGS_ARN), _notification(HTTP_ARN)],  # one per event source
        [{"EventSource": "userNotification", "LogLevel": "ERROR"}],  # no destination
        [  # two destinations in one configuration
            {
                **_notification(LOGS_ARN),
                "FirehoseConfiguration": {"StreamArn": FIREHOSE_ARN},
            }
        ],
        [_notification(FIREHOSE_ARN)],  # a log group ARN that is not of CloudWatch Logs
        [  # user activity is INFO level
            {
                "EventSource": "userAuthEvents",
                "LogLevel": "ERROR",
                "S3Configuration": {"BucketArn": S3_ARN},
            }
        ],
    ]
    for configurations in bad:
        with pytest.raises(ClientError) as error:
            cognito.set_log_delivery_configuration(
                UserPoolId=plus, LogConfigurations=configurations
            )
        assert _code(error) == "InvalidParameterException", configurations
    with pytest.raises(ClientError) as error:
        cognito.get_log_delivery_configuration(UserPoolId=pool["Id"][:-3] + "zzz")
    assert _code(error) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as error:
        cognito.set_log_delivery_configuration(
            UserPoolId=pool["Id"][:-3] + "zzz", LogConfigurations=[]
        )
    assert _code(error) == "ResourceNotFoundException"
    assert (
        cognito.get_log_delivery_configuration(UserPoolId=plus)["LogDeliveryConfiguration"][
            "LogConfigurations"
        ]
        == []
    )


# --------------------------------------------------------------------------- delivery


class _Collector:
    """A local HTTP endpoint that keeps every JSON document POSTed to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                collector.received.append(
                    {
                        "path": self.path,
                        "type": self.headers["Content-Type"],
                        "body": json.loads(body),
                    }
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def collector() -> Iterator[_Collector]:
    c = _Collector()
    yield c
    c.server.shutdown()


@pytest.fixture(scope="module")
def logging_server(
    tmp_path_factory: Any, collector: _Collector
) -> Iterator[tuple[CognateServer, Path]]:
    workdir: Path = tmp_path_factory.mktemp("log-delivery")
    logs = workdir / "exported"
    rules = f"{HTTP_ARN}={collector.url}/cognito-logs arn:aws:logs:*=file:{logs}"
    args = ["--log-destinations", rules, "--smtp-host", "127.0.0.1"]
    args += ["--smtp-port", str(free_port()), "--smtp-security", "none"]  # nothing listens
    with start_server(workdir, db=f"sqlite:///{workdir}/c.db", extra_args=args) as srv:
        yield srv, logs


def _invite(client: Any, pool_id: str, name: str) -> None:
    client.admin_create_user(
        UserPoolId=pool_id,
        Username=name,
        UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
        DesiredDeliveryMediums=["EMAIL"],
    )


def _wait(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("nothing arrived in time")


def test_message_delivery_error_reaches_a_file(
    logging_server: tuple[CognateServer, Path], region: str
) -> None:
    server, logs = logging_server
    client = make_client(server.endpoint, region)
    quiet = client.create_user_pool(PoolName="quiet")["UserPool"]["Id"]
    _invite(client, quiet, "nobody")  # no log configuration: nothing is exported
    pool_id = client.create_user_pool(PoolName="logged")["UserPool"]["Id"]
    client.set_log_delivery_configuration(
        UserPoolId=pool_id, LogConfigurations=[_notification(LOGS_ARN)]
    )
    before = time.time() * 1000
    _invite(client, pool_id, "alice")
    path = logs / "aws_vendedlogs_pool-messages.jsonl"

    def records() -> list[dict[str, Any]]:
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    (record, *_) = _wait(records)
    assert record["eventSource"] == "USER_NOTIFICATION"
    assert record["logLevel"] == "ERROR"
    assert record["logSourceId"] == {"userPoolId": pool_id}
    assert int(record["eventTimestamp"]) >= before - 1000
    assert isinstance(record["eventTimestamp"], str)  # as in Cognito's example
    assert "Email message delivery failed" in record["message"]["details"]
    assert record["message"]["userName"] == "alice"
    assert {r["logSourceId"]["userPoolId"] for r in records()} == {pool_id}  # not `quiet`


def test_message_delivery_error_reaches_an_http_endpoint(
    logging_server: tuple[CognateServer, Path], collector: _Collector, region: str
) -> None:
    server, _logs = logging_server
    client = make_client(server.endpoint, region)
    pool_id = client.create_user_pool(PoolName="to-http")["UserPool"]["Id"]
    client.set_log_delivery_configuration(
        UserPoolId=pool_id, LogConfigurations=[_notification(HTTP_ARN)]
    )
    _invite(client, pool_id, "bob")

    def mine() -> list[dict[str, Any]]:
        return [r for r in collector.received if r["body"]["logSourceId"]["userPoolId"] == pool_id]

    (post, *_) = _wait(mine)
    assert post["path"] == "/cognito-logs"
    assert post["type"] == "application/json"
    assert post["body"]["eventSource"] == "USER_NOTIFICATION"
    assert post["body"]["message"]["deliveryMedium"] == "EMAIL"


def test_user_auth_events_reach_a_file(
    logging_server: tuple[CognateServer, Path], region: str
) -> None:
    server, logs = logging_server
    client = make_client(server.endpoint, region)
    pool_id = new_pool(
        client,
        "activity",
        UserPoolTier="PLUS",
        UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"},
    )
    arn = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/vendedlogs/activity"
    client.set_log_delivery_configuration(
        UserPoolId=pool_id,
        LogConfigurations=[
            {
                "EventSource": "userAuthEvents",
                "LogLevel": "INFO",
                "CloudWatchLogsConfiguration": {"LogGroupArn": arn},
            }
        ],
    )
    client_id = new_client(client, pool_id)["ClientId"]
    new_user(client, pool_id, "carol")
    with pytest.raises(ClientError):
        client.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "carol", "PASSWORD": "Wrong-passw0rd!"},
        )
    path = logs / "aws_vendedlogs_activity.jsonl"

    def records() -> list[dict[str, Any]]:
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    (record, *_) = _wait(records)
    assert record["eventSource"] == "USER_ACTIVITY"
    assert record["logLevel"] == "INFO"
    assert record["logSourceId"] == {"userPoolId": pool_id}
    message = record["message"]
    assert message["eventType"] == "SignIn"
    assert message["eventResponse"] == "Fail"
    assert message["userName"] == "carol"
    assert message["challengeResponses"] == [
        {"ChallengeName": "Password", "ChallengeResponse": "Failure"}
    ]
