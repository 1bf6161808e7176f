
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
            cand promote 'Continue a canary from its manual gate'
            cand abort 'Abort a canary: all traffic back to stable'
            cand status 'Show the live side, targets, health, lock and last change'
            cand demo 'Run a blue-green release against the built-in Kong simulator'
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
            cand --parallelism 'Independent entity writes in flight at once while the environments are set up (e.g. an upstream''s targets); 1 writes one at a time'
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
            cand --parallelism 'Independent entity writes in flight at once while the environments are set up (e.g. an upstream''s targets); 1 writes one at a time'
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
            cand --parallelism 'Independent entity writes in flight at once while the environments are set up (e.g. an upstream''s targets); 1 writes one at a time'
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
        &'bgctl;promote'= {
            cand -f 'The plan file, as a flag (same as `FILE`)'
            cand --file 'The plan file, as a flag (same as `FILE`)'
            cand --parallelism 'Independent entity writes in flight at once while the environments are set up (e.g. an upstream''s targets); 1 writes one at a time'
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
            cand --parallelism 'Independent entity writes in flight at once while the environments are set up (e.g. an upstream''s targets); 1 writes one at a time'
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
            cand promote 'Continue a canary from its manual gate'
            cand abort 'Abort a canary: all traffic back to stable'
            cand status 'Show the live side, targets, health, lock and last change'
            cand demo 'Run a blue-green release against the built-in Kong simulator'
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
        &'bgctl;help;promote'= {
        }
        &'bgctl;help;abort'= {
        }
        &'bgctl;help;status'= {
        }
        &'bgctl;help;demo'= {
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
