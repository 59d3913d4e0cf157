#!/usr/bin/env bash
# Check a running container, then the same image started with a read-only root file system.
#   BASE_URL=http://127.0.0.1:8765 bash tests/docker/check_predict.sh
# Run by `make docker-test` as the smoke test's check; it needs the docker CLI for the second part.
set -euo pipefail
BASE_URL=${BASE_URL:-http://127.0.0.1:8000}
IMAGE=${IMAGE:-sentiment-smoke:latest}
READ_ONLY_PORT=${READ_ONLY_PORT:-8766}

check_predict() {
  local url=$1
  local body='{"texts": ["A moving, beautifully acted film. One of the best I have seen this year.", "Two hours I will never get back. Dull, badly acted and far too long."]}'
  local answer
  answer=$(curl -fsS "$url/predict" -H 'content-type: application/json' -d "$body")
  echo "$answer"
  python3 - "$answer" <<'PY'
import json, sys
answer = json.loads(sys.argv[1])
labels = [prediction["label"] for prediction in answer["predictions"]]
assert labels == ["positive", "negative"], f"unexpected labels {labels}"
assert isinstance(answer["model_version"], int), answer
for prediction in answer["predictions"]:
    assert 0.5 <= prediction["score"] <= 1.0, prediction
print("predict check passed")
PY
  curl -fsS "$url/readyz"; echo
  # The shipped version explains too, and the page is served from inside the image.
  answer=$(curl -fsS "$url/explain" -H 'content-type: application/json' -d '{"text": "A moving film."}')
  python3 - "$answer" <<'PY'
import json, sys
answer = json.loads(sys.argv[1])
tokens = [token["token"] for token in answer["tokens"]]
# Versions from 8 on also read the full stop as a sentence boundary, the token ".".
assert tokens in (["a", "moving", "film"], ["a", "moving", "film", "."]), answer
print("explain check passed")
PY
  curl -fsS "$url/" | grep -q "<html" && echo "page check passed"
}

check_predict "$BASE_URL"

if ! command -v docker >/dev/null; then
  echo "no docker CLI: skipping the read-only container check" >&2
  exit 0
fi
container=sentiment-read-only-$$
trap 'docker rm -f "$container" >/dev/null 2>&1 || true' EXIT
docker run -d --name "$container" --read-only --tmpfs /tmp --network host \
  -e HOST=127.0.0.1 -e PORT="$READ_ONLY_PORT" "$IMAGE" >/dev/null
for _ in $(seq 180); do
  curl -fsS -o /dev/null "http://127.0.0.1:$READ_ONLY_PORT/readyz" 2>/dev/null && break
  sleep 1
done
check_predict "http://127.0.0.1:$READ_ONLY_PORT"
user=$(docker exec "$container" id -u)
[ "$user" != 0 ] || { echo "the container runs as root" >&2; exit 1; }
echo "read-only container check passed (uid $user)"
