#!/usr/bin/env bash
# The README's first command run as a newcomer would: in a fresh copy of the committed files, with nothing
# installed beforehand. Passes once `python -m ecole_entreprise ready --http …` says the app is ready; the server
# is then stopped. Bounded: gives up after READY_TIMEOUT_S seconds of waiting for the server.
set -euo pipefail
cd "$(dirname "$0")/.."
READY_TIMEOUT_S=${READY_TIMEOUT_S:-180}
copy="$(mktemp -d)"
git archive --format=tar HEAD | tar -x -C "$copy"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cd "$copy"
# The README's first command, verbatim; the port comes from Streamlit's own environment variable.
STREAMLIT_SERVER_PORT="$port" setsid bash -c \
  'python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.lock && .venv/bin/python -m streamlit run streamlit_app.py' \
  > "$copy/app.log" 2>&1 &
server=$!
stop() { kill -- "-$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap stop EXIT
# Installing takes a while: wait for the environment, then for the server.
until [ -x .venv/bin/python ] && .venv/bin/python -c "import streamlit" 2>/dev/null; do
  kill -0 "$server" 2>/dev/null || { cat "$copy/app.log"; echo "installation échouée"; exit 1; }
  sleep 5
done
deadline=$(( $(date +%s) + READY_TIMEOUT_S ))
until .venv/bin/python -m ecole_entreprise ready --http "http://127.0.0.1:$port/_stcore/health"; do
  kill -0 "$server" 2>/dev/null || { cat "$copy/app.log"; echo "le serveur s'est arrêté"; exit 1; }
  [ "$(date +%s)" -lt "$deadline" ] || { cat "$copy/app.log"; echo "pas prêt après ${READY_TIMEOUT_S} s"; exit 1; }
  sleep 2
done
echo "Première commande du README : application prête sur le port $port (copie propre $copy), arrêt."
