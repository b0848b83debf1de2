#!/usr/bin/env bash
# make demo: the whole flow against the local emulator, in a throwaway ENTRATOOL_HOME.
# Certificate → app registration (emulator) → profile → token. Nothing leaves 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/bin"
export PATH="$BIN:$PATH"
work="$(mktemp -d)"
# Later steps give git a throwaway HOME; keep Go's caches where they are.
export GOPATH="$(go env GOPATH)" GOMODCACHE="$(go env GOMODCACHE)" GOCACHE="$(go env GOCACHE)"
export ENTRATOOL_HOME="$work/home"
export DOCKER_CONFIG="$work/docker"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

TENANT=87654321-4321-4321-4321-cba987654321
CLIENT=12345678-1234-1234-1234-123456789abc
PW="demo-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "1. Create a self-signed certificate (PFX for us, .cer to upload)"
mkdir -p "$ENTRATOOL_HOME/certs"
printf '%s' "$PW" | show entratool cert create --subject CN=entratool-demo --days 365 --out "$ENTRATOOL_HOME/certs/demo.pfx" --password-stdin

step "2. 'Upload' the .cer to the app registration: start the local Entra ID emulator"
GH_SUBJECT="repo:contoso/demo:ref:refs/heads/main"
servers=(--git-repo contoso/demo.git --kube --registry --federated "$TENANT:$CLIENT:local:$GH_SUBJECT" --github-actions "$GH_SUBJECT")
entra-emulator --app "$TENANT:$CLIENT:$ENTRATOOL_HOME/certs/demo.cer" --dir "$work/emulator" --ready-file "$work/ready.json" "${servers[@]}" >"$work/emulator.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/ready.json" ] && break; sleep 0.1; done
[ -s "$work/ready.json" ] || { cat "$work/emulator.log"; echo "emulator did not start" >&2; exit 1; }
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$work/ready.json"; }
AUTHORITY=$(field authority)
export SSL_CERT_FILE=$(field caFile)
GIT_URL=$(field gitURL); KUBE_URL=$(field kubeURL); REGISTRY=$(field registryHost)
echo "authority: $AUTHORITY   CA: $SSL_CERT_FILE"
echo "Azure DevOps (git): $GIT_URL   AKS API: $KUBE_URL   ACR: $REGISTRY"

step "3. Create a profile (non-interactive; the password goes to the file secret store)"
printf '%s' "$PW" | show entratool config create --name demo --client-id "$CLIENT" --tenant-id "$TENANT" \
  --certificate "$ENTRATOOL_HOME/certs/demo.pfx" --certificate-password-stdin \
  --authority-host "$AUTHORITY" --scope https://graph.microsoft.com/.default --secret-store file --default

step "4. Inspect"
show entratool cert info -p demo
show entratool config show -p demo

step "5. Get a token (cold: the emulator validates the signed client assertion)"
tok=$(entratool get-token -p demo)
echo "token: ${tok:0:24}…  (${#tok} chars)"
payload=$(cut -d. -f2 <<<"$tok" | tr '_-' '/+')
while [ $(( ${#payload} % 4 )) -ne 0 ]; do payload="$payload="; done
echo "claims: $(base64 -d <<<"$payload")"

step "6. Again, from the cache (no request to the emulator)"
show entratool get-token -p demo -o json | sed 's/"accessToken": "\(.\{24\}\)[^"]*"/"accessToken": "\1…"/'

step "7. git: wire the credential helper, then clone and push over HTTPS"
export HOME="$work/userhome" GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 GIT_SSL_CAINFO="$SSL_CERT_FILE"
mkdir -p "$HOME"
git config --global user.name "entratool demo"; git config --global user.email demo@example.invalid
git config --global init.defaultBranch main
show entratool git setup -p demo --url "$GIT_URL/contoso" --global
show git clone -q "$GIT_URL/contoso/demo.git" "$work/repo"
( cd "$work/repo" && echo "hello from entratool" > README && git add README && git commit -qm "first commit" && git push -q origin HEAD:main )
echo "pushed; the helper answered git from the token cache: $(git -C "$work/repo" ls-remote origin main | cut -c1-12)…"

step "8. kubectl: convert a kubeconfig to the exec plugin, then list pods"
cat > "$work/kubeconfig" <<KUBE
apiVersion: v1
kind: Config
clusters:
- name: aks-demo
  cluster: {server: "$KUBE_URL", certificate-authority: "$SSL_CERT_FILE"}
contexts:
- name: aks-demo
  context: {cluster: aks-demo, user: clusterUser_demo}
current-context: aks-demo
users:
- name: clusterUser_demo
  user:
    auth-provider:
      name: azure
      config: {apiserver-id: 6dae42f8-4368-4678-94ff-3960e28e3630, tenant-id: "$TENANT", environment: AzurePublicCloud, config-mode: "1"}
KUBE
show entratool kubeconfig convert -p demo --kubeconfig "$work/kubeconfig"
if command -v kubectl >/dev/null; then
  show kubectl --kubeconfig "$work/kubeconfig" get pods
else
  echo "(kubectl not installed: skipping the kubectl call; the exec plugin answers as:)"
  kubectl-exec-entra --profile demo | cut -c1-120
fi

step "9. Images: wire docker's credential helper for the registry, then push and pull"
mkdir -p "$DOCKER_CONFIG"
show entratool docker setup -p demo --registry "$REGISTRY"
echo "\$DOCKER_CONFIG/config.json: $(tr -d ' \n' < "$DOCKER_CONFIG/config.json")"
go build -o "$work/demo-oci" ./scripts/demo-oci
show "$work/demo-oci" "$REGISTRY/contoso/hello:v1"

step "10. Renew the certificate through Microsoft Graph (no portal): addKey, a token with the new key, switch, removeKey"
export ENTRATOOL_GRAPH_ENDPOINT=$(field graphURL)   # the emulator's Graph; real clouds need no setting
OBJECT_ID=$(field objectId)
old=$(entratool cert info -p demo -o json | sed -n 's/.*"thumbprintSha1": "\([^"]*\)".*/\1/p')
show entratool cert renew -p demo --application-object-id "$OBJECT_ID" --remove-old
tok=$(entratool get-token -p demo)
echo "a token with the new certificate: ${tok:0:24}… (the profile now uses $(entratool cert info -p demo -o json | sed -n 's/.*"path": "\([^"]*\)".*/\1/p'))"
echo "the old certificate ($old) is no longer registered with the app; a profile still using it is refused:"
printf '%s' "$PW" | entratool config create --name demo-old --client-id "$CLIENT" --tenant-id "$TENANT" \
  --certificate "$ENTRATOOL_HOME/certs/demo.pfx" --certificate-password-stdin --authority-host "$AUTHORITY" --secret-store file >/dev/null
if entratool get-token -p demo-old >/dev/null 2>"$work/old.err"; then echo "the old certificate still works?" >&2; exit 1; fi
cut -c1-160 "$work/old.err"
show entratool cert renew -p demo --if-expiring-within 30d

step "11. No certificate at all: a GitHub Actions job's OIDC token (workload identity federation) drives kubectl"
# What GitHub gives a job with 'permissions: id-token: write'; here the emulator's issuer.
export ACTIONS_ID_TOKEN_REQUEST_URL=$(field githubTokenURL) ACTIONS_ID_TOKEN_REQUEST_TOKEN=$(field githubRequestToken)
show entratool config create --name gha --client-id "$CLIENT" --tenant-id "$TENANT" --authority-host "$AUTHORITY" \
  --federated-token-source github-actions
show entratool kubeconfig convert -p gha --kubeconfig "$work/kubeconfig" --context aks-demo
if command -v kubectl >/dev/null; then
  show kubectl --kubeconfig "$work/kubeconfig" get pods
else
  kubectl-exec-entra --profile gha | cut -c1-120
fi

for extra in scripts/demo.d/*.sh; do
  [ -f "$extra" ] || continue
  # shellcheck source=/dev/null
  source "$extra"
done
step "done"
