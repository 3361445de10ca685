#!/usr/bin/env bash
# The steps of .github/workflows/daily.yml that make decisions, kept here so that
# tests/test_workflow.py can run them against a local arXiv stand-in and a local git remote.
#
#   daily.sh update   run what `make update` runs (DATE=YYYY-MM-DD backfills one day), and decide:
#                     exit 0 + publish=true   a day was stored: commit, build, deploy
#                     exit 0 + publish=false  nothing to publish (weekend, holiday), or a stale
#                                             or empty feed on the first run (the catch-up run
#                                             tries again later)
#                     exit != 0               anything else, and a stale feed on the catch-up
#                                             or a manual run: the run is red, nothing deployed
#   daily.sh commit   commit the day files (content/digests/*.json) as the bot and push to the
#                     current branch
#
# The CLI is called directly, not through make: make exits 2 whenever a recipe fails, which would
# hide the CLI's exit codes (4: stale or empty feed, 3: fetch failed, ...).
#
# Environment: RUN_KIND (first | catch-up | manual), DATE, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
# PYTHON (default .venv/bin/python), SETTINGS (default pelicanconf.py).
set -euo pipefail

OUTPUT=${GITHUB_OUTPUT:-/dev/null}
SUMMARY=${GITHUB_STEP_SUMMARY:-/dev/null}
RUN_KIND=${RUN_KIND:-manual}
PYTHON=${PYTHON:-.venv/bin/python}
SETTINGS=${SETTINGS:-pelicanconf.py}
EXIT_NO_ANNOUNCEMENT=4  # see the exit codes in the README and plugins/arxiv_digest/cli/commands.py

say() { printf '%s\n' "$@" >>"$SUMMARY"; }

# the lines worth a reader's attention: the result, the reason, never the whole log
reasons() { grep -E '^(error|warning|note|no announcement|interrupted)|: [0-9]+ papers stored' "$1" || true; }

update() {
    local log rc day
    log=$(mktemp)
    set +e
    "$PYTHON" -m arxiv_digest -s "$SETTINGS" update ${DATE:+--date "$DATE"} 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    say "## Daily update (${RUN_KIND}${DATE:+, $DATE})" ""
    if [ "$rc" -eq 0 ]; then
        if grep -q '^no announcement: ' "$log"; then
            echo "publish=false" >>"$OUTPUT"
            say "Nothing to publish: $(grep -m1 '^no announcement: ' "$log" | sed 's/^no announcement: //')" ""
            say "The live site stays as it is."
            return 0
        fi
        day=$(grep -Eo '^[0-9]{4}-[0-9]{2}-[0-9]{2}: [0-9]+ papers stored' "$log" | tail -n1 || true)
        # retry the summaries that failed on earlier days (the update above retried this day's);
        # exit 6 (some summaries still failed) publishes anyway: the pages label them as such
        "$PYTHON" -m arxiv_digest -s "$SETTINGS" summarize 2>&1 | tee -a "$log" || [ "${PIPESTATUS[0]}" -eq 6 ]
        echo "publish=true" >>"$OUTPUT"
        echo "day=${day%%:*}" >>"$OUTPUT"
        say "Stored: ${day:-a day}." ""
        reasons "$log" | sed 's/^/    /' >>"$SUMMARY"
        return 0
    fi
    echo "publish=false" >>"$OUTPUT"
    if [ "$rc" -eq "$EXIT_NO_ANNOUNCEMENT" ] && [ "$RUN_KIND" = first ]; then
        say "arXiv has not published today's listing yet (exit $rc). Nothing was deployed; the" \
            "live site stays as it was. The catch-up run later today tries again." ""
        reasons "$log" | sed 's/^/    /' >>"$SUMMARY"
        echo "::notice title=No listing yet::$(reasons "$log" | head -n1)"
        return 0
    fi
    say "**Failed** (exit $rc): nothing was deployed and the live site stays as it was." ""
    reasons "$log" | sed 's/^/    /' >>"$SUMMARY"
    echo "::error title=Update failed (exit $rc)::$(reasons "$log" | grep -m1 -E '^(error|no announcement)' || echo "see the log")"
    return "$rc"
}

commit() {
    local branch
    git config user.name "github-actions[bot]"
    git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
    # day files only: never the days' lock files (.locks/) nor the temp file of a killed write
    # (.*.json.*.tmp), which .gitignore lists too ('*' in a git pathspec crosses folders)
    git add -- 'content/digests/*.json'
    if git diff --cached --quiet; then
        echo "content/digests unchanged: nothing to commit"
        return 0
    fi
    git commit --quiet -m "digest: ${DAY:-update} (${RUN_KIND} run)"
    branch=$(git rev-parse --abbrev-ref HEAD)
    for attempt in 1 2 3; do
        if git pull --rebase --quiet origin "$branch" && git push --quiet origin "HEAD:$branch"; then
            echo "pushed $(git rev-parse --short HEAD) to $branch"
            return 0
        fi
        echo "push attempt $attempt failed; retrying" >&2
        sleep $((attempt * 5))
    done
    say "**Failed** to push the new day to $branch: nothing was deployed."
    return 1
}

case "${1:-}" in
    update) update ;;
    commit) commit ;;
    *) echo "usage: $0 update|commit" >&2; exit 2 ;;
esac
