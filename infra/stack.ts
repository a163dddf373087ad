import type { StackProps } from 'aws-cdk-lib';
import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CloudStackDriftAuditorProps } from './construct.js';
import { CloudStackDriftAuditor } from './construct.js';

export class CloudStackDriftAuditorStack extends Stack {
  readonly auditor: CloudStackDriftAuditor;
  constructor(scope: Construct, id: string, props: StackProps & { auditor: CloudStackDriftAuditorProps }) {
    super(scope, id, {
      description: 'cloudstack-drift-auditor: nightly drift audit of CloudStack object storage',
      ...props,
    });
    this.auditor = new CloudStackDriftAuditor(this, 'Auditor', props.auditor);
    if (this.auditor.slackActionsUrl)
      new CfnOutput(this, 'SlackActionsUrl', {
        description: "The Slack app's Interactivity Request URL (csdrift's buttons)",
        value: this.auditor.slackActionsUrl.url,
      });
  }
}
