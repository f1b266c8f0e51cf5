"""Dynamic resource `TokenCredentials`: a password of a registry token, for `cluster.pullMode: token`.

Design notes: docs/providers.md ("providers/acr_token_credentials.py").
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import CreateResult, ReadResult

from providers.base import (
    AzureProvider,
    AzureSession,
    AzureTarget,
    SessionFactory,
    SessionPolling,
    declared_inputs,
    gone,
    inputs_of,
    raw_json,
    timeout_of,
)
from providers.errors import AzureOperationError, azure_call

# Generating a password is quick; the cluster's pool limit is the closest configured wait.
TIMEOUT_KEY = "timeouts.poolMinutes"
PASSWORD_NAMES = ("password1", "password2")


def dockerconfigjson(login_server: str, username: str, password: str) -> str:
    """The `.dockerconfigjson` of a kubernetes.io/dockerconfigjson Secret for one registry."""
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    return json.dumps(
        {"auths": {login_server: {"username": username, "password": password, "auth": auth}}}, sort_keys=True
    )


def token_name_of(token_id: str) -> str:
    return token_id.rstrip("/").rsplit("/", 1)[-1]


class TokenCredentialsProvider(AzureProvider):
    # Every input but the tenant (which only picks the credential) names the password itself: any other
    # change is a different password. An update is therefore a tenant change: nothing to do in Azure.
    REPLACE_ON = ("subscriptionId", "resourceGroupName", "registryName", "tokenId", "passwordName")
    OUTPUTS = ("username", "password", "passwordCreationTime", "passwordExpiry")
    DELETE_BEFORE_REPLACE = True

    @staticmethod
    def _client(session: AzureSession):
        from azure.mgmt.containerregistry import ContainerRegistryManagementClient

        return session.arm_client(ContainerRegistryManagementClient)

    @staticmethod
    def _what(props: dict[str, Any]) -> str:
        return f"{props['passwordName']} of registry token {token_name_of(props['tokenId'])} in {props['registryName']}"

    def describe(self, props: dict[str, Any]) -> str:
        token = token_name_of(str(props.get("tokenId")))
        return f"{props.get('passwordName')} of registry token {token} in {props.get('registryName')}"

    def _token(self, session: AzureSession, props: dict[str, Any]) -> dict[str, Any] | None:
        return azure_call(
            f"reading registry token {token_name_of(props['tokenId'])}",
            lambda: self._client(session).tokens.get(
                props["resourceGroupName"], props["registryName"], token_name_of(props["tokenId"]), cls=raw_json
            ),
            missing_ok=True,
        )

    @staticmethod
    def _our_password(token: dict[str, Any], props: dict[str, Any]) -> dict[str, Any] | None:
        passwords = (((token.get("properties") or {}).get("credentials") or {}).get("passwords")) or []
        return next(
            (
                p
                for p in passwords
                if p.get("name") == props["passwordName"] and p.get("creationTime") == props.get("passwordCreationTime")
            ),
            None,
        )

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        failures = []
        if news.get("passwordName") not in PASSWORD_NAMES:
            failures.append(
                pulumi.dynamic.CheckFailure(
                    "passwordName",
                    f"{news.get('passwordName')!r} is not a token password; allowed: {', '.join(PASSWORD_NAMES)}",
                )
            )
        return pulumi.dynamic.CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        session = self._session(props)
        what = f"generating {self._what(props)}"
        polling = SessionPolling(session, timeout_minutes=timeout_of(props), what=what, timeout_key=TIMEOUT_KEY)
        result = azure_call(
            what,
            lambda: (
                self._client(session)
                .registries.begin_generate_credentials(
                    props["resourceGroupName"],
                    props["registryName"],
                    {"tokenId": props["tokenId"], "name": props["passwordName"]},
                    polling=polling,
                    cls=raw_json,
                )
                .result()
            ),
        )
        assert result is not None  # only a missing_ok call answers None
        password = next(
            (p for p in result.get("passwords") or [] if p.get("name") == props["passwordName"] and p.get("value")),
            None,
        )
        if password is None:
            raise AzureOperationError(f"{what}: Azure answered without a value for {props['passwordName']}")
        outs = self.outputs_of(
            props,
            username=result.get("username") or token_name_of(props["tokenId"]),
            password=password["value"],
            passwordCreationTime=password.get("creationTime"),
            passwordExpiry=password.get("expiry"),
        )
        return CreateResult(f"{props['tokenId']}/credentials/{props['passwordName']}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        session = self._session(props)
        token = self._token(session, props)
        if token is None or self._our_password(token, props) is None:
            return gone()
        return ReadResult(id_, inputs_of(props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        session = self._session(props)
        token = self._token(session, props)
        ours = self._our_password(token, props) if token is not None else None
        if token is None or ours is None:
            # The token is gone (and its passwords with it), or the password was regenerated since:
            # the one we hold is already invalid and the current one is not ours to revoke.
            return
        remaining = [
            {k: v for k, v in p.items() if k != "value"}
            for p in token["properties"]["credentials"]["passwords"]
            if p is not ours
        ]
        what = f"revoking {self._what(props)}"
        polling = SessionPolling(session, timeout_minutes=timeout_of(props), what=what, timeout_key=TIMEOUT_KEY)
        # A token deleted meanwhile took the password with it.
        azure_call(
            what,
            lambda: (
                self._client(session)
                .tokens.begin_update(
                    props["resourceGroupName"],
                    props["registryName"],
                    token_name_of(props["tokenId"]),
                    {"properties": {"credentials": {"passwords": remaining}}},
                    polling=polling,
                    cls=raw_json,
                )
                .result()
            ),
            missing_ok=True,
        )


class TokenCredentials(pulumi.dynamic.Resource, module="acr", name="TokenCredentials"):
    """One generated password of a registry token; `password` is a secret output."""

    username: pulumi.Output[str]
    password: pulumi.Output[str]
    passwordCreationTime: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        azure: AzureTarget,
        resource_group_name: pulumi.Input[str],
        registry_name: pulumi.Input[str],
        token_id: pulumi.Input[str],
        password_name: str = "password1",
        timeout_minutes: int,
        opts: pulumi.ResourceOptions | None = None,
        session_factory: SessionFactory | None = None,
    ):
        props = declared_inputs(
            azure,
            timeout_minutes,
            {
                "resourceGroupName": resource_group_name,
                "registryName": registry_name,
                "tokenId": token_id,
                "passwordName": password_name,
            },
            TokenCredentialsProvider.OUTPUTS,
        )
        opts = pulumi.ResourceOptions.merge(
            pulumi.ResourceOptions(additional_secret_outputs=["password"], delete_before_replace=True), opts
        )
        super().__init__(TokenCredentialsProvider(session_factory), resource_name, props, opts)
