
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
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Continue a canary from its manual gate')
            [CompletionResult]::new('abort', 'abort', [CompletionResultType]::ParameterValue, 'Abort a canary: all traffic back to stable')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the live side, targets, health, lock and last change')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run a blue-green release against the built-in Kong simulator')
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
            [CompletionResult]::new('--parallelism', '--parallelism', [CompletionResultType]::ParameterName, 'Independent entity writes in flight at once while the environments are set up (e.g. an upstream''s targets); 1 writes one at a time')
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
            [CompletionResult]::new('--parallelism', '--parallelism', [CompletionResultType]::ParameterName, 'Independent entity writes in flight at once while the environments are set up (e.g. an upstream''s targets); 1 writes one at a time')
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
            [CompletionResult]::new('--parallelism', '--parallelism', [CompletionResultType]::ParameterName, 'Independent entity writes in flight at once while the environments are set up (e.g. an upstream''s targets); 1 writes one at a time')
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
        'bgctl;promote' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The plan file, as a flag (same as `FILE`)')
            [CompletionResult]::new('--parallelism', '--parallelism', [CompletionResultType]::ParameterName, 'Independent entity writes in flight at once while the environments are set up (e.g. an upstream''s targets); 1 writes one at a time')
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
            [CompletionResult]::new('--parallelism', '--parallelism', [CompletionResultType]::ParameterName, 'Independent entity writes in flight at once while the environments are set up (e.g. an upstream''s targets); 1 writes one at a time')
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
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Continue a canary from its manual gate')
            [CompletionResult]::new('abort', 'abort', [CompletionResultType]::ParameterValue, 'Abort a canary: all traffic back to stable')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the live side, targets, health, lock and last change')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run a blue-green release against the built-in Kong simulator')
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
        'bgctl;help;promote' {
            break
        }
        'bgctl;help;abort' {
            break
        }
        'bgctl;help;status' {
            break
        }
        'bgctl;help;demo' {
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
