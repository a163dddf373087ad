// The fan-out's merge step in a process of its own, as one Lambda invocation runs it: the built
// handler, the step's payload from argv, its environment from the parent. Prints the function's result
// and, last, the process's peak resident set size in bytes (what the merge test holds to the budget).
import process from 'node:process';

const { handler } = await import('../../dist/handlers/fanout.js');
const deadline = Date.now() + 900_000;
const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'csdrift-fanout',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:csdrift-fanout',
  memoryLimitInMB: '1024',
  awsRequestId: 'merge-test',
  logGroupName: '/aws/lambda/csdrift-fanout',
  logStreamName: 'merge-test',
  getRemainingTimeInMillis: () => deadline - Date.now(),
  done: () => {},
  fail: () => {},
  succeed: () => {},
};
const result = await handler(JSON.parse(process.argv[2]), context);
process.stdout.write(`${JSON.stringify(result)}\n${process.resourceUsage().maxRSS * 1024}\n`);
// Lambda freezes the process once the handler returns; here its pools and sockets would keep it alive.
process.exit(0);
