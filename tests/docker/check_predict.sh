#!/usr/bin/env bash
# POST two clear-cut reviews to $BASE_URL/predict and check the answer's shape and labels.
#   BASE_URL=http://127.0.0.1:8000 bash tests/docker/check_predict.sh
set -euo pipefail
BASE_URL=${BASE_URL:-http://127.0.0.1:8000}
body='{"texts": ["A moving, beautifully acted film. One of the best I have seen this year.", "Two hours I will never get back. Dull, badly acted and far too long."]}'
answer=$(curl -fsS "$BASE_URL/predict" -H 'content-type: application/json' -d "$body")
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
curl -fsS "$BASE_URL/readyz"; echo
