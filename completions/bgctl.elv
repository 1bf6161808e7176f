
use builtin;
use str;

set edit:completion:arg-completer[bgctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'bgctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'bgctl'= {
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand plan 'Validate, diff and apply plans'
            cand switch 'Make an environment live: probe it, switch traffic, verify'
            cand rollback 'Send traffic back to the side that was live before the last switch'
            cand release 'Release to the side that is not live, with the live side as stable (no plan edit)'
            cand promote 'Continue a canary from its manual gate'
            cand abort 'Abort a canary: all traffic back to stable'
            cand status 'Show the live side, targets, health, lock and last change'
            cand history 'Show the last runs that changed the rollout, newest first'
            cand fleet 'Run one plan across many gateways or clusters, in waves (a `kind: Fleet` file)'
            cand demo 'Run a blue-green release against the built-in Kong simulator'
            cand init 'Write a plan from what is live (Kong, Kubernetes, HAProxy)'
            cand completions 'Print shell completions'
            cand schema 'Print the plan''s JSON Schema (`--events`: that of the `-o json` events)'
            cand man 'Write man pages (`bgctl.1` and one per command) into a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bgctl;plan'= {
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand validate 'Check plans offline: every problem at once, no network calls'
            cand diff 'Show what `apply` would change in the live system'
            cand apply 'Make the live system match the plan'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bgctl;plan;validate'= {
            cand -f 'A plan file, as a flag (may be repeated; same as `FILE`)'
            cand --file 'A plan file, as a flag (may be repeated; same as `FILE`)'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;plan;diff'= {
            cand -f 'The plan file, as a flag (same as `FILE`)'
            cand --file 'The plan file, as a flag (same as `FILE`)'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand --exit-code 'Exit 0 when nothing differs, 2 when there are changes, 1 on error'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;plan;apply'= {
            cand -f 'The plan file, as a flag (same as `FILE`)'
            cand --file 'The plan file, as a flag (same as `FILE`)'
            cand --parallelism 'Independent entity writes in flight at once (an upstream''s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --dry-run 'Show what would change and stop'
            cand --force-unlock 'Break a lock held by another run (use only when that run is gone)'
            cand --wait 'At a canary''s manual gate, wait for `bgctl promote` from another runner instead of exiting 6'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;plan;help'= {
            cand validate 'Check plans offline: every problem at once, no network calls'
            cand diff 'Show what `apply` would change in the live system'
            cand apply 'Make the live system match the plan'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bgctl;plan;help;validate'= {
        }
        &'bgctl;plan;help;diff'= {
        }
        &'bgctl;plan;help;apply'= {
        }
        &'bgctl;plan;help;help'= {
        }
        &'bgctl;switch'= {
            cand --to 'The environment to make live'
            cand -f 'The plan file, as a flag (same as `FILE`)'
            cand --file 'The plan file, as a flag (same as `FILE`)'
            cand --parallelism 'Independent entity writes in flight at once (an upstream''s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --dry-run 'Show what would change and stop'
            cand --force-unlock 'Break a lock held by another run (use only when that run is gone)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;rollback'= {
            cand -f 'The plan file, as a flag (same as `FILE`)'
            cand --file 'The plan file, as a flag (same as `FILE`)'
            cand --parallelism 'Independent entity writes in flight at once (an upstream''s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --dry-run 'Show what would change and stop'
            cand --force-unlock 'Break a lock held by another run (use only when that run is gone)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;release'= {
            cand -f 'The plan file, as a flag (same as `FILE`)'
            cand --file 'The plan file, as a flag (same as `FILE`)'
            cand --set 'A plan variable for this release (`${KEY}`), over the environment; may be repeated. Values that shape the candidate are remembered for later releases'
            cand --parallelism 'Independent entity writes in flight at once (an upstream''s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --dry-run 'Show what would change and stop'
            cand --force-unlock 'Break a lock held by another run (use only when that run is gone)'
            cand --wait 'At a canary''s manual gate, wait for `bgctl promote` from another runner instead of exiting 6'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;promote'= {
            cand -f 'The plan file, as a flag (same as `FILE`)'
            cand --file 'The plan file, as a flag (same as `FILE`)'
            cand --parallelism 'Independent entity writes in flight at once (an upstream''s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand --full 'Skip the remaining steps and send all traffic to the canary now'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --dry-run 'Show what would change and stop'
            cand --force-unlock 'Break a lock held by another run (use only when that run is gone)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;abort'= {
            cand -f 'The plan file, as a flag (same as `FILE`)'
            cand --file 'The plan file, as a flag (same as `FILE`)'
            cand --parallelism 'Independent entity writes in flight at once (an upstream''s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --dry-run 'Show what would change and stop'
            cand --force-unlock 'Break a lock held by another run (use only when that run is gone)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;status'= {
            cand -f 'The plan file, as a flag (same as `FILE`)'
            cand --file 'The plan file, as a flag (same as `FILE`)'
            cand --interval 'With `--watch`: how often to read the live state again'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand --no-probe 'Skip the health probes'
            cand -w 'Keep watching: redraw on a terminal, print each change otherwise (until Ctrl-C or `--timeout`)'
            cand --watch 'Keep watching: redraw on a terminal, print each change otherwise (until Ctrl-C or `--timeout`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;history'= {
            cand -f 'The plan file, as a flag (same as `FILE`)'
            cand --file 'The plan file, as a flag (same as `FILE`)'
            cand -n 'How many runs to show'
            cand --limit 'How many runs to show'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;fleet'= {
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand apply 'Run the plan on every member, wave by wave (finished members are skipped)'
            cand promote 'Continue a fleet paused at a member''s manual gate: promote it, then go on'
            cand status 'One row per member: wave, phase, live side, last change, lock'
            cand rollback 'Send members back to their previous side, the latest wave first'
            cand diff 'Show what `fleet apply` would change on each member'
            cand validate 'Check the fleet file and every member''s plan, offline'
            cand render 'Print a CI pipeline with one job per member and the waves as ordered stages'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bgctl;fleet;apply'= {
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --force-unlock 'Break a member''s lock held by another run (use only when that run is gone)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;fleet;promote'= {
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --force-unlock 'Break a member''s lock held by another run (use only when that run is gone)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;fleet;status'= {
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;fleet;rollback'= {
            cand --members 'Only these members (comma-separated or repeated); default: every member'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --force-unlock 'Break a member''s lock held by another run (use only when that run is gone)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;fleet;diff'= {
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;fleet;validate'= {
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;fleet;render'= {
            cand --format 'The CI system'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;fleet;help'= {
            cand apply 'Run the plan on every member, wave by wave (finished members are skipped)'
            cand promote 'Continue a fleet paused at a member''s manual gate: promote it, then go on'
            cand status 'One row per member: wave, phase, live side, last change, lock'
            cand rollback 'Send members back to their previous side, the latest wave first'
            cand diff 'Show what `fleet apply` would change on each member'
            cand validate 'Check the fleet file and every member''s plan, offline'
            cand render 'Print a CI pipeline with one job per member and the waves as ordered stages'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bgctl;fleet;help;apply'= {
        }
        &'bgctl;fleet;help;promote'= {
        }
        &'bgctl;fleet;help;status'= {
        }
        &'bgctl;fleet;help;rollback'= {
        }
        &'bgctl;fleet;help;diff'= {
        }
        &'bgctl;fleet;help;validate'= {
        }
        &'bgctl;fleet;help;render'= {
        }
        &'bgctl;fleet;help;help'= {
        }
        &'bgctl;demo'= {
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;init'= {
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand kong 'Kong: a service, its routes (unnamed ones by id) and the upstream its `host` names'
            cand kubernetes 'Kubernetes: a Service and the Deployment its selector picks'
            cand haproxy 'HAProxy: the servers of one backend, through the runtime API'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bgctl;init;kong'= {
            cand --admin-url 'Base URL of the Admin API'
            cand --service 'The service whose traffic the plan switches'
            cand --admin-token 'Sent as `Kong-Admin-Token` (the plan reads it from `${KONG_ADMIN_TOKEN}`)'
            cand --other-upstream 'The other side''s upstream, read from Kong when it exists'
            cand --other-targets 'The other side''s targets (`host:port`, comma-separated), when its upstream does not exist yet'
            cand --proxy-url 'The data-plane URL, written as `proxyUrl` (switches are then verified through it)'
            cand -f 'Write the plan to this file instead of stdout'
            cand --file 'Write the plan to this file instead of stdout'
            cand --name 'The rollout''s name (`metadata.name`; default: the service or backend name)'
            cand --live-side 'The name of the side that serves now'
            cand --other-side 'The name of the other side (default `green`, or `blue` when the live side is `green`)'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand --force 'Overwrite `--file` when it exists'
            cand --no-adopt 'Do not tag what was read as owned by the rollout (the first `plan apply` then does)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;init;kubernetes'= {
            cand --service 'The Service whose selector the plan flips'
            cand -n 'Namespace (default: the context''s)'
            cand --namespace 'Namespace (default: the context''s)'
            cand --kubeconfig 'kubeconfig file (default: `KUBECONFIG`, then `~/.kube/config`)'
            cand --other-deployment 'The other side''s Deployment'
            cand -f 'Write the plan to this file instead of stdout'
            cand --file 'Write the plan to this file instead of stdout'
            cand --name 'The rollout''s name (`metadata.name`; default: the service or backend name)'
            cand --live-side 'The name of the side that serves now'
            cand --other-side 'The name of the other side (default `green`, or `blue` when the live side is `green`)'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand --force 'Overwrite `--file` when it exists'
            cand --no-adopt 'Do not tag what was read as owned by the rollout (the first `plan apply` then does)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;init;haproxy'= {
            cand --runtime-api 'The runtime API: `tcp://127.0.0.1:9999` or `unix:///run/haproxy/admin.sock`'
            cand --backend 'The backend whose servers are the sides'
            cand --other-servers 'The other side''s servers when the backend has none yet: `NAME=IP:PORT`, comma-separated'
            cand --proxy-url 'The frontend URL, written as `proxyUrl` (switches are then verified through it)'
            cand -f 'Write the plan to this file instead of stdout'
            cand --file 'Write the plan to this file instead of stdout'
            cand --name 'The rollout''s name (`metadata.name`; default: the service or backend name)'
            cand --live-side 'The name of the side that serves now'
            cand --other-side 'The name of the other side (default `green`, or `blue` when the live side is `green`)'
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand --force 'Overwrite `--file` when it exists'
            cand --no-adopt 'Do not tag what was read as owned by the rollout (the first `plan apply` then does)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;init;help'= {
            cand kong 'Kong: a service, its routes (unnamed ones by id) and the upstream its `host` names'
            cand kubernetes 'Kubernetes: a Service and the Deployment its selector picks'
            cand haproxy 'HAProxy: the servers of one backend, through the runtime API'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bgctl;init;help;kong'= {
        }
        &'bgctl;init;help;kubernetes'= {
        }
        &'bgctl;init;help;haproxy'= {
        }
        &'bgctl;init;help;help'= {
        }
        &'bgctl;completions'= {
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;schema'= {
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand --events 'Print the schema of one `-o json` event line instead'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;man'= {
            cand -o 'Output format; `json` writes newline-delimited events to stdout'
            cand --output 'Output format; `json` writes newline-delimited events to stdout'
            cand --color 'When to use colour (`NO_COLOR` is honoured)'
            cand --timeout 'Deadline for the whole run (e.g. `10m`, `90s`)'
            cand --max-plan-bytes 'Largest plan file accepted, in bytes'
            cand --context 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)'
            cand -v 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand --verbose 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-progress 'Never show progress spinners'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bgctl;help'= {
            cand plan 'Validate, diff and apply plans'
            cand switch 'Make an environment live: probe it, switch traffic, verify'
            cand rollback 'Send traffic back to the side that was live before the last switch'
            cand release 'Release to the side that is not live, with the live side as stable (no plan edit)'
            cand promote 'Continue a canary from its manual gate'
            cand abort 'Abort a canary: all traffic back to stable'
            cand status 'Show the live side, targets, health, lock and last change'
            cand history 'Show the last runs that changed the rollout, newest first'
            cand fleet 'Run one plan across many gateways or clusters, in waves (a `kind: Fleet` file)'
            cand demo 'Run a blue-green release against the built-in Kong simulator'
            cand init 'Write a plan from what is live (Kong, Kubernetes, HAProxy)'
            cand completions 'Print shell completions'
            cand schema 'Print the plan''s JSON Schema (`--events`: that of the `-o json` events)'
            cand man 'Write man pages (`bgctl.1` and one per command) into a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bgctl;help;plan'= {
            cand validate 'Check plans offline: every problem at once, no network calls'
            cand diff 'Show what `apply` would change in the live system'
            cand apply 'Make the live system match the plan'
        }
        &'bgctl;help;plan;validate'= {
        }
        &'bgctl;help;plan;diff'= {
        }
        &'bgctl;help;plan;apply'= {
        }
        &'bgctl;help;switch'= {
        }
        &'bgctl;help;rollback'= {
        }
        &'bgctl;help;release'= {
        }
        &'bgctl;help;promote'= {
        }
        &'bgctl;help;abort'= {
        }
        &'bgctl;help;status'= {
        }
        &'bgctl;help;history'= {
        }
        &'bgctl;help;fleet'= {
            cand apply 'Run the plan on every member, wave by wave (finished members are skipped)'
            cand promote 'Continue a fleet paused at a member''s manual gate: promote it, then go on'
            cand status 'One row per member: wave, phase, live side, last change, lock'
            cand rollback 'Send members back to their previous side, the latest wave first'
            cand diff 'Show what `fleet apply` would change on each member'
            cand validate 'Check the fleet file and every member''s plan, offline'
            cand render 'Print a CI pipeline with one job per member and the waves as ordered stages'
        }
        &'bgctl;help;fleet;apply'= {
        }
        &'bgctl;help;fleet;promote'= {
        }
        &'bgctl;help;fleet;status'= {
        }
        &'bgctl;help;fleet;rollback'= {
        }
        &'bgctl;help;fleet;diff'= {
        }
        &'bgctl;help;fleet;validate'= {
        }
        &'bgctl;help;fleet;render'= {
        }
        &'bgctl;help;demo'= {
        }
        &'bgctl;help;init'= {
            cand kong 'Kong: a service, its routes (unnamed ones by id) and the upstream its `host` names'
            cand kubernetes 'Kubernetes: a Service and the Deployment its selector picks'
            cand haproxy 'HAProxy: the servers of one backend, through the runtime API'
        }
        &'bgctl;help;init;kong'= {
        }
        &'bgctl;help;init;kubernetes'= {
        }
        &'bgctl;help;init;haproxy'= {
        }
        &'bgctl;help;completions'= {
        }
        &'bgctl;help;schema'= {
        }
        &'bgctl;help;man'= {
        }
        &'bgctl;help;help'= {
        }
    ]
    $completions[$command]
}
