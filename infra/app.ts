// The CDK app: `npx cdk synth` (cdk.json). Only CDK lives in infra/.
// The CloudStackDriftAuditor construct (functions, schedule, fan-out, alarms) arrives with the
// deployment issue; until then the stack holds nothing and deploying it creates no resources.
import { App, Stack } from 'aws-cdk-lib';

const app = new App();
new Stack(app, 'CloudStackDriftAuditor', {
  description: 'cloudstack-drift-auditor: nightly drift audit of CloudStack object storage',
});
app.synth();
