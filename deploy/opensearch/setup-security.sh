#!/usr/bin/env bash
# Creates Scope's OpenSearch users and roles through the security plugin's REST API.
#
# Least privilege: the indexer writes only Scope's indices (`scope-*`: documents, aliases,
# index templates, reindex); the search API only reads them. Neither gets the admin password.
# Idempotent (PUT replaces): run it again to rotate a password or after changing a role.
#
# Environment:
#   OPENSEARCH_URL               https://opensearch:9200
#   OPENSEARCH_ADMIN_PASSWORD    the `admin` user's password (OPENSEARCH_INITIAL_ADMIN_PASSWORD)
#   OPENSEARCH_INDEXER_PASSWORD  password to set for `scope_indexer`
#   OPENSEARCH_SEARCH_PASSWORD   password to set for `scope_search`
#   OPENSEARCH_CA                CA bundle to verify the node's certificate; or
#   OPENSEARCH_INSECURE=1        skip verification: only with the demo certificates of a trial
#                                setup, whose CA key is public anyway (see docs/deployment.md)
#   OPENSEARCH_WAIT_SECONDS      how long to wait for the cluster (default 180: a first start
#                                initialises the security index)
# Used by deploy/compose.yaml (service opensearch-setup) and, in Kubernetes, as a Job.
set -euo pipefail

: "${OPENSEARCH_URL:?}" "${OPENSEARCH_ADMIN_PASSWORD:?}"
: "${OPENSEARCH_INDEXER_PASSWORD:?}" "${OPENSEARCH_SEARCH_PASSWORD:?}"
wait_seconds="${OPENSEARCH_WAIT_SECONDS:-180}"

tls=()
if [[ -n "${OPENSEARCH_CA:-}" ]]; then
  tls=(--cacert "$OPENSEARCH_CA")
elif [[ "${OPENSEARCH_INSECURE:-0}" == "1" ]]; then
  tls=(--insecure)
fi

# The admin password goes to curl through a config file on stdin, never on its command line
# (where `ps` would show it).
api() {
  local method=$1 path=$2 body=${3:-}
  local args=(--silent --show-error --fail-with-body --max-time 30 "${tls[@]}"
              -H 'Content-Type: application/json' -X "$method" "$OPENSEARCH_URL$path" -K -)
  if [[ -n "$body" ]]; then
    args+=(--data-binary "$body")
  fi
  printf 'user = "admin:%s"\n' "$(escape "$OPENSEARCH_ADMIN_PASSWORD")" | curl "${args[@]}"
  echo
}

# JSON (and curl config) string escaping of a password: backslashes and double quotes.
escape() {
  local text=${1//\\/\\\\}
  printf '%s' "${text//\"/\\\"}"
}

deadline=$((SECONDS + wait_seconds))
until api GET '/_cluster/health?wait_for_status=yellow&timeout=5s' >/dev/null 2>&1; do
  if ((SECONDS >= deadline)); then
    echo "opensearch-setup: $OPENSEARCH_URL not ready after ${wait_seconds}s" >&2
    exit 1
  fi
  sleep 3
done

api PUT /_plugins/_security/api/roles/scope_writer '{
  "description": "Scope indexer: owns the scope-* indices, aliases and index templates",
  "cluster_permissions": ["cluster_monitor", "cluster_composite_ops",
                          "cluster_manage_index_templates", "indices:data/write/reindex"],
  "index_permissions": [{"index_patterns": ["scope-*"], "allowed_actions": ["indices_all"]}]
}'
api PUT /_plugins/_security/api/roles/scope_reader '{
  "description": "Scope search API: reads the scope-* indices",
  "cluster_permissions": ["cluster_monitor", "cluster_composite_ops_ro"],
  "index_permissions": [{"index_patterns": ["scope-*"],
                         "allowed_actions": ["read", "indices_monitor"]}]
}'
api PUT /_plugins/_security/api/internalusers/scope_indexer \
  "{\"password\": \"$(escape "$OPENSEARCH_INDEXER_PASSWORD")\", \"description\": \"Scope indexer\"}"
api PUT /_plugins/_security/api/internalusers/scope_search \
  "{\"password\": \"$(escape "$OPENSEARCH_SEARCH_PASSWORD")\", \"description\": \"Scope search API\"}"
api PUT /_plugins/_security/api/rolesmapping/scope_writer '{"users": ["scope_indexer"]}'
api PUT /_plugins/_security/api/rolesmapping/scope_reader '{"users": ["scope_search"]}'
echo "opensearch-setup: users scope_indexer and scope_search are ready"
