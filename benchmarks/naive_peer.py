"""The naive peer: the script an admin would write from the Atlassian community recipe.

List every Keycloak user (python-keycloak), take the disabled ones, find each one's account
id with the Organizations API (a v2 user search by email), and deactivate it with the User
management API's ``lifecycle/disable``. No confirming read, no brute-force check, no
protected principals, no journal: the whole script is what it saves in requests and time.
``bench_peer.py`` runs it as a whole process beside ``offboard apply --yes``.

Its one concession to a real tenant: an answer 429 (Atlassian's rate limit) is sent again
after the ``Retry-After`` seconds, as an admin adds after the first run that died of one.
Without a limit the script never sees a 429 and this costs nothing.

    python benchmarks/naive_peer.py KEYCLOAK_URL REALM CLIENT_ID SECRET ATLASSIAN_URL ORG KEY
"""

from __future__ import annotations

import sys
import time
from typing import Any

import httpx

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection


def main(arguments: list[str]) -> int:
    if len(arguments) != 7:  # no argparse: the script as an admin writes it
        print(__doc__.rstrip().splitlines()[-1].strip(), file=sys.stderr)
        return 0 if arguments[:1] in (["-h"], ["--help"]) else 2
    keycloak_url, realm, client_id, secret, atlassian_url, org_id, api_key = arguments
    connection = KeycloakOpenIDConnection(
        server_url=keycloak_url, realm_name=realm, client_id=client_id,
        client_secret_key=secret, verify=True,
    )  # fmt: skip
    admin = KeycloakAdmin(connection=connection)
    leavers = [user for user in admin.get_users({}) if not user.get("enabled", True)]
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
    deactivated = 0
    with httpx.Client(base_url=atlassian_url, headers=headers, timeout=30) as atlassian:
        for user in leavers:
            if not user.get("email"):
                continue
            found = posted(
                atlassian,
                f"/admin/v2/orgs/{org_id}/directories/-/users/search",
                {"emails": [user["email"]], "limit": 1},
            )
            found.raise_for_status()
            data = found.json()["data"]
            if not data:
                continue
            account_id = data[0]["accountId"]
            message = {"message": "Deactivated: disabled in Keycloak"}
            answer = posted(atlassian, f"/users/{account_id}/manage/lifecycle/disable", message)
            deactivated += answer.is_success
    print(f"{len(leavers)} disabled in Keycloak, {deactivated} deactivated")
    return 0


def posted(client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    """The answer to a POST, sent again while it is 429, after the wait the answer asks."""
    while True:
        answer = client.post(path, json=body)
        if answer.status_code != 429:
            return answer
        time.sleep(float(answer.headers.get("Retry-After", "1")))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
