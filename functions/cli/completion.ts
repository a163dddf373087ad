// `csdrift completion bash|zsh|fish`: shell completion written from the program's own commands and
// options (commander's), so it can never list a flag csdrift does not take. Values are completed
// where csdrift knows them: rule ids, severities, report formats; paths fall back to the shell's.
import type { Command, Option } from 'commander';
import { InvalidInputError } from '../core/errors.js';
import { SEVERITIES } from '../core/model.js';
import { RULE_IDS } from '../core/rules/index.js';
import { REPORT_FORMATS } from '../reports/formats.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** The values an option takes, where csdrift knows them. */
function valuesOf(option: Option): readonly string[] {
  if (option.argChoices?.length) return option.argChoices;
  switch (option.long) {
    case '--rule':
      return RULE_IDS;
    case '--fail-on':
      return SEVERITIES;
    case '--format':
      return REPORT_FORMATS;
    default:
      return [];
  }
}

interface CommandShape {
  name: string;
  description: string;
  options: { flag: string; description: string; takesValue: boolean; values: readonly string[] }[];
}

function shapeOf(program: Command): CommandShape[] {
  return program.commands.map((c) => ({
    name: c.name(),
    description: c.description(),
    options: c.options.flatMap((o) =>
      o.long
        ? [
            {
              flag: o.long,
              description: o.description,
              takesValue: o.required || o.optional,
              values: valuesOf(o),
            },
          ]
        : [],
    ),
  }));
}

/** Safe inside single quotes in every shell here. */
const quoted = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

function bash(commands: CommandShape[]): string {
  const cases = commands
    .map((c) => `    ${c.name}) opts=${quoted(c.options.map((o) => o.flag).join(' '))} ;;`)
    .join('\n');
  const values = [
    ...new Map(
      commands.flatMap((c) => c.options.filter((o) => o.values.length).map((o) => [o.flag, o.values])),
    ),
  ]
    .map(
      ([flag, v]) => `    ${flag}) COMPREPLY=( $(compgen -W ${quoted(v.join(' '))} -- "$cur") ); return ;;`,
    )
    .join('\n');
  return `# csdrift completion for bash: source it, or put it in ~/.local/share/bash-completion/completions/csdrift
_csdrift() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd="\${COMP_WORDS[1]}" opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W ${quoted(`${commands.map((c) => c.name).join(' ')} --help --version`)} -- "$cur") )
    return
  fi
  case "$prev" in
${values}
  esac
  case "$cmd" in
${cases}
    *) opts='' ;;
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "$opts --help" -- "$cur") ); fi
}
complete -o default -F _csdrift csdrift
`;
}

function zsh(commands: CommandShape[]): string {
  // zsh runs the bash function through its own bashcompinit, as npm's and many CLIs' completions do.
  return `# csdrift completion for zsh: source it from ~/.zshrc
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash(commands).split('\n').slice(1).join('\n')}`;
}

function fish(commands: CommandShape[]): string {
  const lines = [
    '# csdrift completion for fish: save as ~/.config/fish/completions/csdrift.fish',
    'complete -c csdrift -f',
    ...commands.map(
      (c) =>
        `complete -c csdrift -n __fish_use_subcommand -a ${c.name} -d ${quoted(c.description.slice(0, 80))}`,
    ),
    ...commands.flatMap((c) =>
      c.options.map((o) =>
        [
          `complete -c csdrift -n ${quoted(`__fish_seen_subcommand_from ${c.name}`)} -l ${o.flag.slice(2)}`,
          o.takesValue ? (o.values.length ? `-x -a ${quoted(o.values.join(' '))}` : '-r -F') : '',
          `-d ${quoted(o.description.slice(0, 80))}`,
        ]
          .filter(Boolean)
          .join(' '),
      ),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

export function completionScript(program: Command, shell: string): string {
  const commands = shapeOf(program);
  switch (shell) {
    case 'bash':
      return bash(commands);
    case 'zsh':
      return zsh(commands);
    case 'fish':
      return fish(commands);
    default:
      throw new InvalidInputError(`completion ${shell}: unknown shell (known: ${SHELLS.join(', ')})`);
  }
}
