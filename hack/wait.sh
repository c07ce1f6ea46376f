# shellcheck shell=bash
# wait_for_condition TIMEOUT_SECONDS CONDITION OBJECT [kubectl args...]
#
# Polls until OBJECT (e.g. crd/hookruns.hooks.hookrun.dev, job/hello) has the
# condition CONDITION with status True, or fails after TIMEOUT_SECONDS with
# the object's conditions. Used instead of `kubectl wait --for=condition=…`:
# some kubectl versions (1.32 here) fail at once with ".status.conditions
# accessor error: <nil> is of the type <nil>" when the object was just
# created and has no conditions yet, instead of waiting for them.
# KUBECTL (default kubectl) is the command; extra args go to every call.
wait_for_condition() {
	local timeout=$1 condition=$2 object=$3
	shift 3
	local deadline=$((SECONDS + timeout)) status
	while :; do
		status=$("${KUBECTL:-kubectl}" "$@" get "$object" \
			-o "jsonpath={.status.conditions[?(@.type==\"$condition\")].status}" 2>/dev/null || true)
		[[ $status == True ]] && return 0
		if ((SECONDS >= deadline)); then
			printf 'timed out after %ss waiting for %s to be %s; conditions: %s\n' "$timeout" "$object" "$condition" \
				"$("${KUBECTL:-kubectl}" "$@" get "$object" -o 'jsonpath={.status.conditions}' 2>&1 || true)" >&2
			return 1
		fi
		sleep 0.5 # polling the API server, bounded by the deadline
	done
}
