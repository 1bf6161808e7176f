
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'bgctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'bgctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'bgctl' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Validate, diff and apply plans')
            [CompletionResult]::new('switch', 'switch', [CompletionResultType]::ParameterValue, 'Make an environment live: probe it, switch traffic, verify')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Send traffic back to the side that was live before the last switch')
            [CompletionResult]::new('release', 'release', [CompletionResultType]::ParameterValue, 'Release to the side that is not live, with the live side as stable (no plan edit)')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Continue a canary from its manual gate')
            [CompletionResult]::new('abort', 'abort', [CompletionResultType]::ParameterValue, 'Abort a canary: all traffic back to stable')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the live side, targets, health, lock and last change')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show the last runs that changed the rollout, newest first')
            [CompletionResult]::new('fleet', 'fleet', [CompletionResultType]::ParameterValue, 'Run one plan across many gateways or clusters, in waves (a `kind: Fleet` file)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run a blue-green release against the built-in Kong simulator')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a plan from what is live (Kong, Kubernetes, HAProxy)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the plan''s JSON Schema (`--events`: that of the `-o json` events)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write man pages (`bgctl.1` and one per command) into a directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bgctl;plan' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check plans offline: every problem at once, no network calls')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what `apply` would change in the live system')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Make the live system match the plan')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bgctl;plan;validate' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'A plan file, as a flag (may be repeated; same as `FILE`)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'A plan file, as a flag (may be repeated; same as `FILE`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;plan;diff' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('--exit-code', '--exit-code', [CompletionResultType]::ParameterName, 'Exit 0 when nothing differs, 2 when there are changes, 1 on error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;plan;apply' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--parallelism', '--parallelism', [CompletionResultType]::ParameterName, 'Independent entity writes in flight at once (an upstream''s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change and stop')
            [CompletionResult]::new('--force-unlock', '--force-unlock', [CompletionResultType]::ParameterName, 'Break a lock held by another run (use only when that run is gone)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'At a canary''s manual gate, wait for `bgctl promote` from another runner instead of exiting 6')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;plan;help' {
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check plans offline: every problem at once, no network calls')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what `apply` would change in the live system')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Make the live system match the plan')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bgctl;plan;help;validate' {
            break
        }
        'bgctl;plan;help;diff' {
            break
        }
        'bgctl;plan;help;apply' {
            break
        }
        'bgctl;plan;help;help' {
            break
        }
        'bgctl;switch' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The environment to make live')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--parallelism', '--parallelism', [CompletionResultType]::ParameterName, 'Independent entity writes in flight at once (an upstream''s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change and stop')
            [CompletionResult]::new('--force-unlock', '--force-unlock', [CompletionResultType]::ParameterName, 'Break a lock held by another run (use only when that run is gone)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;rollback' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--parallelism', '--parallelism', [CompletionResultType]::ParameterName, 'Independent entity writes in flight at once (an upstream''s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change and stop')
            [CompletionResult]::new('--force-unlock', '--force-unlock', [CompletionResultType]::ParameterName, 'Break a lock held by another run (use only when that run is gone)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;release' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'A plan variable for this release (`${KEY}`), over the environment; may be repeated. Values that shape the candidate are remembered for later releases')
            [CompletionResult]::new('--parallelism', '--parallelism', [CompletionResultType]::ParameterName, 'Independent entity writes in flight at once (an upstream''s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change and stop')
            [CompletionResult]::new('--force-unlock', '--force-unlock', [CompletionResultType]::ParameterName, 'Break a lock held by another run (use only when that run is gone)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'At a canary''s manual gate, wait for `bgctl promote` from another runner instead of exiting 6')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;promote' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--parallelism', '--parallelism', [CompletionResultType]::ParameterName, 'Independent entity writes in flight at once (an upstream''s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('--full', '--full', [CompletionResultType]::ParameterName, 'Skip the remaining steps and send all traffic to the canary now')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change and stop')
            [CompletionResult]::new('--force-unlock', '--force-unlock', [CompletionResultType]::ParameterName, 'Break a lock held by another run (use only when that run is gone)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;abort' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--parallelism', '--parallelism', [CompletionResultType]::ParameterName, 'Independent entity writes in flight at once (an upstream''s targets, while the environments are set up and at each Kong canary step); 1 writes one at a time')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change and stop')
            [CompletionResult]::new('--force-unlock', '--force-unlock', [CompletionResultType]::ParameterName, 'Break a lock held by another run (use only when that run is gone)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;status' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'With `--watch`: how often to read the live state again')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Skip the health probes')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Keep watching: redraw on a terminal, print each change otherwise (until Ctrl-C or `--timeout`)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Keep watching: redraw on a terminal, print each change otherwise (until Ctrl-C or `--timeout`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;history' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'How many runs to show')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'How many runs to show')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;fleet' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Run the plan on every member, wave by wave (finished members are skipped)')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Continue a fleet paused at a member''s manual gate: promote it, then go on')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'One row per member: wave, phase, live side, last change, lock')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Send members back to their previous side, the latest wave first')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what `fleet apply` would change on each member')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check the fleet file and every member''s plan, offline')
            [CompletionResult]::new('render', 'render', [CompletionResultType]::ParameterValue, 'Print a CI pipeline with one job per member and the waves as ordered stages')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bgctl;fleet;apply' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--force-unlock', '--force-unlock', [CompletionResultType]::ParameterName, 'Break a member''s lock held by another run (use only when that run is gone)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;fleet;promote' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--force-unlock', '--force-unlock', [CompletionResultType]::ParameterName, 'Break a member''s lock held by another run (use only when that run is gone)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;fleet;status' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;fleet;rollback' {
            [CompletionResult]::new('--members', '--members', [CompletionResultType]::ParameterName, 'Only these members (comma-separated or repeated); default: every member')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--force-unlock', '--force-unlock', [CompletionResultType]::ParameterName, 'Break a member''s lock held by another run (use only when that run is gone)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;fleet;diff' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;fleet;validate' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;fleet;render' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The CI system')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;fleet;help' {
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Run the plan on every member, wave by wave (finished members are skipped)')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Continue a fleet paused at a member''s manual gate: promote it, then go on')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'One row per member: wave, phase, live side, last change, lock')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Send members back to their previous side, the latest wave first')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what `fleet apply` would change on each member')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check the fleet file and every member''s plan, offline')
            [CompletionResult]::new('render', 'render', [CompletionResultType]::ParameterValue, 'Print a CI pipeline with one job per member and the waves as ordered stages')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bgctl;fleet;help;apply' {
            break
        }
        'bgctl;fleet;help;promote' {
            break
        }
        'bgctl;fleet;help;status' {
            break
        }
        'bgctl;fleet;help;rollback' {
            break
        }
        'bgctl;fleet;help;diff' {
            break
        }
        'bgctl;fleet;help;validate' {
            break
        }
        'bgctl;fleet;help;render' {
            break
        }
        'bgctl;fleet;help;help' {
            break
        }
        'bgctl;demo' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;init' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('kong', 'kong', [CompletionResultType]::ParameterValue, 'Kong: a service, its routes (unnamed ones by id) and the upstream its `host` names')
            [CompletionResult]::new('kubernetes', 'kubernetes', [CompletionResultType]::ParameterValue, 'Kubernetes: a Service and the Deployment its selector picks')
            [CompletionResult]::new('haproxy', 'haproxy', [CompletionResultType]::ParameterValue, 'HAProxy: the servers of one backend, through the runtime API')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bgctl;init;kong' {
            [CompletionResult]::new('--admin-url', '--admin-url', [CompletionResultType]::ParameterName, 'Base URL of the Admin API')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'The service whose traffic the plan switches')
            [CompletionResult]::new('--admin-token', '--admin-token', [CompletionResultType]::ParameterName, 'Sent as `Kong-Admin-Token` (the plan reads it from `${KONG_ADMIN_TOKEN}`)')
            [CompletionResult]::new('--other-upstream', '--other-upstream', [CompletionResultType]::ParameterName, 'The other side''s upstream, read from Kong when it exists')
            [CompletionResult]::new('--other-targets', '--other-targets', [CompletionResultType]::ParameterName, 'The other side''s targets (`host:port`, comma-separated), when its upstream does not exist yet')
            [CompletionResult]::new('--proxy-url', '--proxy-url', [CompletionResultType]::ParameterName, 'The data-plane URL, written as `proxyUrl` (switches are then verified through it)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Write the plan to this file instead of stdout')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Write the plan to this file instead of stdout')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The rollout''s name (`metadata.name`; default: the service or backend name)')
            [CompletionResult]::new('--live-side', '--live-side', [CompletionResultType]::ParameterName, 'The name of the side that serves now')
            [CompletionResult]::new('--other-side', '--other-side', [CompletionResultType]::ParameterName, 'The name of the other side (default `green`, or `blue` when the live side is `green`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite `--file` when it exists')
            [CompletionResult]::new('--no-adopt', '--no-adopt', [CompletionResultType]::ParameterName, 'Do not tag what was read as owned by the rollout (the first `plan apply` then does)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;init;kubernetes' {
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'The Service whose selector the plan flips')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'kubeconfig file (default: `KUBECONFIG`, then `~/.kube/config`)')
            [CompletionResult]::new('--other-deployment', '--other-deployment', [CompletionResultType]::ParameterName, 'The other side''s Deployment')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Write the plan to this file instead of stdout')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Write the plan to this file instead of stdout')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The rollout''s name (`metadata.name`; default: the service or backend name)')
            [CompletionResult]::new('--live-side', '--live-side', [CompletionResultType]::ParameterName, 'The name of the side that serves now')
            [CompletionResult]::new('--other-side', '--other-side', [CompletionResultType]::ParameterName, 'The name of the other side (default `green`, or `blue` when the live side is `green`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite `--file` when it exists')
            [CompletionResult]::new('--no-adopt', '--no-adopt', [CompletionResultType]::ParameterName, 'Do not tag what was read as owned by the rollout (the first `plan apply` then does)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;init;haproxy' {
            [CompletionResult]::new('--runtime-api', '--runtime-api', [CompletionResultType]::ParameterName, 'The runtime API: `tcp://127.0.0.1:9999` or `unix:///run/haproxy/admin.sock`')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'The backend whose servers are the sides')
            [CompletionResult]::new('--other-servers', '--other-servers', [CompletionResultType]::ParameterName, 'The other side''s servers when the backend has none yet: `NAME=IP:PORT`, comma-separated')
            [CompletionResult]::new('--proxy-url', '--proxy-url', [CompletionResultType]::ParameterName, 'The frontend URL, written as `proxyUrl` (switches are then verified through it)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Write the plan to this file instead of stdout')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Write the plan to this file instead of stdout')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The rollout''s name (`metadata.name`; default: the service or backend name)')
            [CompletionResult]::new('--live-side', '--live-side', [CompletionResultType]::ParameterName, 'The name of the side that serves now')
            [CompletionResult]::new('--other-side', '--other-side', [CompletionResultType]::ParameterName, 'The name of the other side (default `green`, or `blue` when the live side is `green`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite `--file` when it exists')
            [CompletionResult]::new('--no-adopt', '--no-adopt', [CompletionResultType]::ParameterName, 'Do not tag what was read as owned by the rollout (the first `plan apply` then does)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;init;help' {
            [CompletionResult]::new('kong', 'kong', [CompletionResultType]::ParameterValue, 'Kong: a service, its routes (unnamed ones by id) and the upstream its `host` names')
            [CompletionResult]::new('kubernetes', 'kubernetes', [CompletionResultType]::ParameterValue, 'Kubernetes: a Service and the Deployment its selector picks')
            [CompletionResult]::new('haproxy', 'haproxy', [CompletionResultType]::ParameterValue, 'HAProxy: the servers of one backend, through the runtime API')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bgctl;init;help;kong' {
            break
        }
        'bgctl;init;help;kubernetes' {
            break
        }
        'bgctl;init;help;haproxy' {
            break
        }
        'bgctl;init;help;help' {
            break
        }
        'bgctl;completions' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;schema' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('--events', '--events', [CompletionResultType]::ParameterName, 'Print the schema of one `-o json` event line instead')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;man' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; `json` writes newline-delimited events to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (`NO_COLOR` is honoured)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run (e.g. `10m`, `90s`)')
            [CompletionResult]::new('--max-plan-bytes', '--max-plan-bytes', [CompletionResultType]::ParameterName, 'Largest plan file accepted, in bytes')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context to use (overrides `provider.kubernetes.context`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (-v shows every Admin API call; -vv and -vvv add debug logs)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress spinners')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bgctl;help' {
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Validate, diff and apply plans')
            [CompletionResult]::new('switch', 'switch', [CompletionResultType]::ParameterValue, 'Make an environment live: probe it, switch traffic, verify')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Send traffic back to the side that was live before the last switch')
            [CompletionResult]::new('release', 'release', [CompletionResultType]::ParameterValue, 'Release to the side that is not live, with the live side as stable (no plan edit)')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Continue a canary from its manual gate')
            [CompletionResult]::new('abort', 'abort', [CompletionResultType]::ParameterValue, 'Abort a canary: all traffic back to stable')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the live side, targets, health, lock and last change')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show the last runs that changed the rollout, newest first')
            [CompletionResult]::new('fleet', 'fleet', [CompletionResultType]::ParameterValue, 'Run one plan across many gateways or clusters, in waves (a `kind: Fleet` file)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run a blue-green release against the built-in Kong simulator')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a plan from what is live (Kong, Kubernetes, HAProxy)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the plan''s JSON Schema (`--events`: that of the `-o json` events)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write man pages (`bgctl.1` and one per command) into a directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bgctl;help;plan' {
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check plans offline: every problem at once, no network calls')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what `apply` would change in the live system')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Make the live system match the plan')
            break
        }
        'bgctl;help;plan;validate' {
            break
        }
        'bgctl;help;plan;diff' {
            break
        }
        'bgctl;help;plan;apply' {
            break
        }
        'bgctl;help;switch' {
            break
        }
        'bgctl;help;rollback' {
            break
        }
        'bgctl;help;release' {
            break
        }
        'bgctl;help;promote' {
            break
        }
        'bgctl;help;abort' {
            break
        }
        'bgctl;help;status' {
            break
        }
        'bgctl;help;history' {
            break
        }
        'bgctl;help;fleet' {
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Run the plan on every member, wave by wave (finished members are skipped)')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Continue a fleet paused at a member''s manual gate: promote it, then go on')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'One row per member: wave, phase, live side, last change, lock')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Send members back to their previous side, the latest wave first')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what `fleet apply` would change on each member')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check the fleet file and every member''s plan, offline')
            [CompletionResult]::new('render', 'render', [CompletionResultType]::ParameterValue, 'Print a CI pipeline with one job per member and the waves as ordered stages')
            break
        }
        'bgctl;help;fleet;apply' {
            break
        }
        'bgctl;help;fleet;promote' {
            break
        }
        'bgctl;help;fleet;status' {
            break
        }
        'bgctl;help;fleet;rollback' {
            break
        }
        'bgctl;help;fleet;diff' {
            break
        }
        'bgctl;help;fleet;validate' {
            break
        }
        'bgctl;help;fleet;render' {
            break
        }
        'bgctl;help;demo' {
            break
        }
        'bgctl;help;init' {
            [CompletionResult]::new('kong', 'kong', [CompletionResultType]::ParameterValue, 'Kong: a service, its routes (unnamed ones by id) and the upstream its `host` names')
            [CompletionResult]::new('kubernetes', 'kubernetes', [CompletionResultType]::ParameterValue, 'Kubernetes: a Service and the Deployment its selector picks')
            [CompletionResult]::new('haproxy', 'haproxy', [CompletionResultType]::ParameterValue, 'HAProxy: the servers of one backend, through the runtime API')
            break
        }
        'bgctl;help;init;kong' {
            break
        }
        'bgctl;help;init;kubernetes' {
            break
        }
        'bgctl;help;init;haproxy' {
            break
        }
        'bgctl;help;completions' {
            break
        }
        'bgctl;help;schema' {
            break
        }
        'bgctl;help;man' {
            break
        }
        'bgctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
