// cdk-nag 3 helpers: acknowledgements with reasons, and the logical ids its finding ids name.
import type { CfnElement } from 'aws-cdk-lib';
import { Stack, Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** cdk-nag 3 acknowledgements: every one carries its reason. */
export function acknowledgeAll(scope: Construct, reasons: Record<string, string>): void {
  for (const [id, reason] of Object.entries(reasons)) Validations.of(scope).acknowledge({ id, reason }); // cdk-nag matches the bare rule id
}

/** The CloudFormation logical id of a construct's resource, as cdk-nag names it in finding ids. */
export function logicalId(construct: Construct): string {
  const stack = Stack.of(construct);
  return stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnElement)) as string;
}
