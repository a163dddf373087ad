// csdrift: the command line over the same engine the Lambda functions run (cli/program.ts), bound
// to this process: its standard output and error, and its exit status.
import { OutputClosedError } from '../core/errors.js';
import { visible } from '../core/shell.js';
import type { Io } from './audit-command.js';
import { runCli } from './program.js';

// A reader that closes the pipe (`| head`) makes the next write fail with EPIPE: the command stops
// there, through its own clean-up, instead of dying on an unhandled 'error' event.
process.stdout.on('error', () => {});
const io: Io = {
  stdout: (text) =>
    new Promise((resolve, reject) =>
      process.stdout.write(text, (err) =>
        err
          ? reject(new OutputClosedError('standard output was closed; stopped', { cause: err }))
          : resolve(),
      ),
    ),
  // One line each, always: names from stores and rows can neither forge a line nor steer the terminal.
  stderr: (line) => process.stderr.write(`csdrift: ${visible(line)}\n`),
};

process.exit(await runCli(process.argv, io));
