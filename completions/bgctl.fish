# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_bgctl_global_optspecs
    string join \n v/verbose q/quiet o/output= no-progress color= timeout= max-plan-bytes= context= h/help V/version
end

function __fish_bgctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_bgctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_bgctl_using_subcommand
    set -l cmd (__fish_bgctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c bgctl -n "__fish_bgctl_needs_command" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_needs_command" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_needs_command" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_needs_command" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_needs_command" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_needs_command" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_needs_command" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_needs_command" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_needs_command" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "plan" -d 'Validate, diff and apply plans'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "switch" -d 'Make an environment live: probe it, switch traffic, verify'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "rollback" -d 'Send traffic back to the side that was live before the last switch'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "release" -d 'Release to the side that is not live, with the live side as stable (no plan edit)'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "promote" -d 'Continue a canary from its manual gate'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "abort" -d 'Abort a canary: all traffic back to stable'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "status" -d 'Show the live side, targets, health, lock and last change'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "history" -d 'Show the last runs that changed the rollout, newest first'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "fleet" -d 'Run one plan across many gateways or clusters, in waves (a `kind: Fleet` file)'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "demo" -d 'Run a blue-green release against the built-in Kong simulator'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "init" -d 'Write a plan from what is live (Kong, Kubernetes, HAProxy)'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "schema" -d 'Print the plan\'s JSON Schema (`--events`: that of the `-o json` events)'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "man" -d 'Write man pages (`bgctl.1` and one per command) into a directory'
complete -c bgctl -n "__fish_bgctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -f -a "validate" -d 'Check plans offline: every problem at once, no network calls'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -f -a "diff" -d 'Show what `apply` would change in the live system'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -f -a "apply" -d 'Make the live system match the plan'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and not __fish_seen_subcommand_from validate diff apply help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from validate" -s f -l file -d 'A plan file, as a flag (may be repeated; same as `FILE`)' -r -F
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from validate" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from validate" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from validate" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from validate" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from validate" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from validate" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from validate" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from validate" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from validate" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from diff" -s f -l file -d 'The plan file, as a flag (same as `FILE`)' -r -F
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from diff" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from diff" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from diff" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from diff" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from diff" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from diff" -l exit-code -d 'Exit 0 when nothing differs, 2 when there are changes, 1 on error'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from diff" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from diff" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from diff" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from diff" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -s f -l file -d 'The plan file, as a flag (same as `FILE`)' -r -F
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -l parallelism -d 'Independent entity writes in flight at once (an upstream\'s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -s y -l yes -d 'Do not ask for confirmation'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -l dry-run -d 'Show what would change and stop'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -l force-unlock -d 'Break a lock held by another run (use only when that run is gone)'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -l wait -d 'At a canary\'s manual gate, wait for `bgctl promote` from another runner instead of exiting 6'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from apply" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from help" -f -a "validate" -d 'Check plans offline: every problem at once, no network calls'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Show what `apply` would change in the live system'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from help" -f -a "apply" -d 'Make the live system match the plan'
complete -c bgctl -n "__fish_bgctl_using_subcommand plan; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -l to -d 'The environment to make live' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -s f -l file -d 'The plan file, as a flag (same as `FILE`)' -r -F
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -l parallelism -d 'Independent entity writes in flight at once (an upstream\'s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -s y -l yes -d 'Do not ask for confirmation'
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -l dry-run -d 'Show what would change and stop'
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -l force-unlock -d 'Break a lock held by another run (use only when that run is gone)'
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand switch" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -s f -l file -d 'The plan file, as a flag (same as `FILE`)' -r -F
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -l parallelism -d 'Independent entity writes in flight at once (an upstream\'s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -s y -l yes -d 'Do not ask for confirmation'
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -l dry-run -d 'Show what would change and stop'
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -l force-unlock -d 'Break a lock held by another run (use only when that run is gone)'
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand rollback" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -s f -l file -d 'The plan file, as a flag (same as `FILE`)' -r -F
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -l set -d 'A plan variable for this release (`${KEY}`), over the environment; may be repeated. Values that shape the candidate are remembered for later releases' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -l parallelism -d 'Independent entity writes in flight at once (an upstream\'s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -s y -l yes -d 'Do not ask for confirmation'
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -l dry-run -d 'Show what would change and stop'
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -l force-unlock -d 'Break a lock held by another run (use only when that run is gone)'
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -l wait -d 'At a canary\'s manual gate, wait for `bgctl promote` from another runner instead of exiting 6'
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand release" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -s f -l file -d 'The plan file, as a flag (same as `FILE`)' -r -F
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -l parallelism -d 'Independent entity writes in flight at once (an upstream\'s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -l full -d 'Skip the remaining steps and send all traffic to the canary now'
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -s y -l yes -d 'Do not ask for confirmation'
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -l dry-run -d 'Show what would change and stop'
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -l force-unlock -d 'Break a lock held by another run (use only when that run is gone)'
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand promote" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -s f -l file -d 'The plan file, as a flag (same as `FILE`)' -r -F
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -l parallelism -d 'Independent entity writes in flight at once (an upstream\'s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -s y -l yes -d 'Do not ask for confirmation'
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -l dry-run -d 'Show what would change and stop'
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -l force-unlock -d 'Break a lock held by another run (use only when that run is gone)'
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand abort" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -s f -l file -d 'The plan file, as a flag (same as `FILE`)' -r -F
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -l interval -d 'With `--watch`: how often to read the live state again' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -l no-probe -d 'Skip the health probes'
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -s w -l watch -d 'Keep watching: redraw on a terminal, print each change otherwise (until Ctrl-C or `--timeout`)'
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand status" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand history" -s f -l file -d 'The plan file, as a flag (same as `FILE`)' -r -F
complete -c bgctl -n "__fish_bgctl_using_subcommand history" -s n -l limit -d 'How many runs to show' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand history" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand history" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand history" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand history" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand history" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand history" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand history" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand history" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand history" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -f -a "apply" -d 'Run the plan on every member, wave by wave (finished members are skipped)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -f -a "promote" -d 'Continue a fleet paused at a member\'s manual gate: promote it, then go on'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -f -a "status" -d 'One row per member: wave, phase, live side, last change, lock'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -f -a "rollback" -d 'Send members back to their previous side, the latest wave first'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -f -a "diff" -d 'Show what `fleet apply` would change on each member'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -f -a "validate" -d 'Check the fleet file and every member\'s plan, offline'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -f -a "render" -d 'Print a CI pipeline with one job per member and the waves as ordered stages'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and not __fish_seen_subcommand_from apply promote status rollback diff validate render help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from apply" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from apply" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from apply" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from apply" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from apply" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from apply" -s y -l yes -d 'Do not ask for confirmation'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from apply" -l force-unlock -d 'Break a member\'s lock held by another run (use only when that run is gone)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from apply" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from apply" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from apply" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from apply" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from promote" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from promote" -s y -l yes -d 'Do not ask for confirmation'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l force-unlock -d 'Break a member\'s lock held by another run (use only when that run is gone)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from promote" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from promote" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from promote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from promote" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from status" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from status" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from status" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from status" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from status" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l members -d 'Only these members (comma-separated or repeated); default: every member' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -s y -l yes -d 'Do not ask for confirmation'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l force-unlock -d 'Break a member\'s lock held by another run (use only when that run is gone)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from diff" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from diff" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from diff" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from diff" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from diff" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from diff" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from diff" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from diff" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from diff" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from validate" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from validate" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from validate" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from validate" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from validate" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from validate" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from validate" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from validate" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from validate" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from render" -l format -d 'The CI system' -r -f -a "github-actions\t'A GitHub Actions workflow (`.github/workflows/*.yml`)'
gitlab-ci\t'A GitLab CI pipeline (`.gitlab-ci.yml`)'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from render" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from render" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from render" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from render" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from render" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from render" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from render" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from render" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from render" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from render" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "apply" -d 'Run the plan on every member, wave by wave (finished members are skipped)'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "promote" -d 'Continue a fleet paused at a member\'s manual gate: promote it, then go on'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "status" -d 'One row per member: wave, phase, live side, last change, lock'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "rollback" -d 'Send members back to their previous side, the latest wave first'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Show what `fleet apply` would change on each member'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "validate" -d 'Check the fleet file and every member\'s plan, offline'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "render" -d 'Print a CI pipeline with one job per member and the waves as ordered stages'
complete -c bgctl -n "__fish_bgctl_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bgctl -n "__fish_bgctl_using_subcommand demo" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand demo" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand demo" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand demo" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand demo" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand demo" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand demo" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand demo" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand demo" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -f -a "kong" -d 'Kong: a service, its routes (unnamed ones by id) and the upstream its `host` names'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -f -a "kubernetes" -d 'Kubernetes: a Service and the Deployment its selector picks'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -f -a "haproxy" -d 'HAProxy: the servers of one backend, through the runtime API'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and not __fish_seen_subcommand_from kong kubernetes haproxy help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l admin-url -d 'Base URL of the Admin API' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l service -d 'The service whose traffic the plan switches' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l admin-token -d 'Sent as `Kong-Admin-Token` (the plan reads it from `${KONG_ADMIN_TOKEN}`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l other-upstream -d 'The other side\'s upstream, read from Kong when it exists' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l other-targets -d 'The other side\'s targets (`host:port`, comma-separated), when its upstream does not exist yet' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l proxy-url -d 'The data-plane URL, written as `proxyUrl` (switches are then verified through it)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -s f -l file -d 'Write the plan to this file instead of stdout' -r -F
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l name -d 'The rollout\'s name (`metadata.name`; default: the service or backend name)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l live-side -d 'The name of the side that serves now' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l other-side -d 'The name of the other side (default `green`, or `blue` when the live side is `green`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l force -d 'Overwrite `--file` when it exists'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l no-adopt -d 'Do not tag what was read as owned by the rollout (the first `plan apply` then does)'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kong" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -l service -d 'The Service whose selector the plan flips' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -s n -l namespace -d 'Namespace (default: the context\'s)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -l kubeconfig -d 'kubeconfig file (default: `KUBECONFIG`, then `~/.kube/config`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -l other-deployment -d 'The other side\'s Deployment' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -s f -l file -d 'Write the plan to this file instead of stdout' -r -F
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -l name -d 'The rollout\'s name (`metadata.name`; default: the service or backend name)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -l live-side -d 'The name of the side that serves now' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -l other-side -d 'The name of the other side (default `green`, or `blue` when the live side is `green`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -l force -d 'Overwrite `--file` when it exists'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -l no-adopt -d 'Do not tag what was read as owned by the rollout (the first `plan apply` then does)'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from kubernetes" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l runtime-api -d 'The runtime API: `tcp://127.0.0.1:9999` or `unix:///run/haproxy/admin.sock`' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l backend -d 'The backend whose servers are the sides' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l other-servers -d 'The other side\'s servers when the backend has none yet: `NAME=IP:PORT`, comma-separated' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l proxy-url -d 'The frontend URL, written as `proxyUrl` (switches are then verified through it)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -s f -l file -d 'Write the plan to this file instead of stdout' -r -F
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l name -d 'The rollout\'s name (`metadata.name`; default: the service or backend name)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l live-side -d 'The name of the side that serves now' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l other-side -d 'The name of the other side (default `green`, or `blue` when the live side is `green`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l force -d 'Overwrite `--file` when it exists'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l no-adopt -d 'Do not tag what was read as owned by the rollout (the first `plan apply` then does)'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from haproxy" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from help" -f -a "kong" -d 'Kong: a service, its routes (unnamed ones by id) and the upstream its `host` names'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from help" -f -a "kubernetes" -d 'Kubernetes: a Service and the Deployment its selector picks'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from help" -f -a "haproxy" -d 'HAProxy: the servers of one backend, through the runtime API'
complete -c bgctl -n "__fish_bgctl_using_subcommand init; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bgctl -n "__fish_bgctl_using_subcommand completions" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand completions" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand completions" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand completions" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand completions" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand completions" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand completions" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand completions" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand schema" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand schema" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand schema" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand schema" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand schema" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand schema" -l events -d 'Print the schema of one `-o json` event line instead'
complete -c bgctl -n "__fish_bgctl_using_subcommand schema" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand schema" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand schema" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand schema" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand man" -s o -l output -d 'Output format; `json` writes newline-delimited events to stdout' -r -f -a "text\t'Human-readable text'
json\t'Newline-delimited JSON events on stdout'"
complete -c bgctl -n "__fish_bgctl_using_subcommand man" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c bgctl -n "__fish_bgctl_using_subcommand man" -l timeout -d 'Deadline for the whole run (e.g. `10m`, `90s`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand man" -l max-plan-bytes -d 'Largest plan file accepted, in bytes' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand man" -l context -d 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)' -r
complete -c bgctl -n "__fish_bgctl_using_subcommand man" -s v -l verbose -d 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
complete -c bgctl -n "__fish_bgctl_using_subcommand man" -s q -l quiet -d 'Only errors'
complete -c bgctl -n "__fish_bgctl_using_subcommand man" -l no-progress -d 'Never show progress spinners'
complete -c bgctl -n "__fish_bgctl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bgctl -n "__fish_bgctl_using_subcommand man" -s V -l version -d 'Print version'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "plan" -d 'Validate, diff and apply plans'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "switch" -d 'Make an environment live: probe it, switch traffic, verify'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "rollback" -d 'Send traffic back to the side that was live before the last switch'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "release" -d 'Release to the side that is not live, with the live side as stable (no plan edit)'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "promote" -d 'Continue a canary from its manual gate'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "abort" -d 'Abort a canary: all traffic back to stable'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "status" -d 'Show the live side, targets, health, lock and last change'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "history" -d 'Show the last runs that changed the rollout, newest first'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "fleet" -d 'Run one plan across many gateways or clusters, in waves (a `kind: Fleet` file)'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "demo" -d 'Run a blue-green release against the built-in Kong simulator'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "init" -d 'Write a plan from what is live (Kong, Kubernetes, HAProxy)'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "completions" -d 'Print shell completions'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "schema" -d 'Print the plan\'s JSON Schema (`--events`: that of the `-o json` events)'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "man" -d 'Write man pages (`bgctl.1` and one per command) into a directory'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and not __fish_seen_subcommand_from plan switch rollback release promote abort status history fleet demo init completions schema man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and __fish_seen_subcommand_from plan" -f -a "validate" -d 'Check plans offline: every problem at once, no network calls'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and __fish_seen_subcommand_from plan" -f -a "diff" -d 'Show what `apply` would change in the live system'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and __fish_seen_subcommand_from plan" -f -a "apply" -d 'Make the live system match the plan'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "apply" -d 'Run the plan on every member, wave by wave (finished members are skipped)'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "promote" -d 'Continue a fleet paused at a member\'s manual gate: promote it, then go on'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "status" -d 'One row per member: wave, phase, live side, last change, lock'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "rollback" -d 'Send members back to their previous side, the latest wave first'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "diff" -d 'Show what `fleet apply` would change on each member'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "validate" -d 'Check the fleet file and every member\'s plan, offline'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "render" -d 'Print a CI pipeline with one job per member and the waves as ordered stages'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and __fish_seen_subcommand_from init" -f -a "kong" -d 'Kong: a service, its routes (unnamed ones by id) and the upstream its `host` names'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and __fish_seen_subcommand_from init" -f -a "kubernetes" -d 'Kubernetes: a Service and the Deployment its selector picks'
complete -c bgctl -n "__fish_bgctl_using_subcommand help; and __fish_seen_subcommand_from init" -f -a "haproxy" -d 'HAProxy: the servers of one backend, through the runtime API'
