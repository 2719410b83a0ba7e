import type { SandboxContext } from '../app/context.js';
import { cpiDb } from './service.js';
import { buildIflowZip } from './zip.js';

interface DemoArtifact {
  id: string;
  name: string;
  /** The demo feature (user story) the flow implements. */
  description: string;
  version: string;
  sender: string;
  receiver: string;
  parameters: Record<string, string>;
  runtime?: { status: 'STARTED' | 'ERROR'; error?: string };
}

const FINANCE: DemoArtifact[] = [
  {
    id: 'Bank_Statement_CAMT053_Inbound',
    name: 'Bank statement CAMT.053 import',
    description: 'Feature "Bank statement processing", story "CAMT.053 import"',
    version: '1.0.3',
    sender: 'HouseBank_EBICS',
    receiver: 'S4HANA',
    parameters: { SenderAddress: '/bank/camt053', S4Destination: 'S4P_BANK', PollingInterval: '15' },
    runtime: { status: 'STARTED' },
  },
  {
    id: 'ELSTER_UStVA_Submission',
    name: 'ELSTER advance return submission (UStVA)',
    description: 'Feature "Tax reporting for Germany", story "ELSTER submission"',
    version: '2.1.0',
    sender: 'S4HANA',
    receiver: 'ELSTER',
    parameters: { ElsterEndpoint: 'https://elster.example.invalid/ustva', CertificateAlias: 'elster_prod' },
    runtime: { status: 'STARTED' },
  },
  {
    id: 'IC_Reconciliation_Partner_Feed',
    name: 'Intercompany open items to the reconciliation cockpit',
    description: 'Feature "Intercompany reconciliation", story "Matching rules for IC open items"',
    version: '1.0.1',
    sender: 'S4HANA',
    receiver: 'ICR_Cockpit',
    parameters: { CompanyCodes: '1000,2000,3000', BatchSize: '500' },
    runtime: {
      status: 'ERROR',
      error:
        'com.sap.it.op.agent.mpl.exceptions.DeploymentException: Credential alias ICR_COCKPIT_OAUTH not found in the security material',
    },
  },
  {
    id: 'Group_Reporting_Flexible_Upload',
    name: 'Group reporting flexible upload from subsidiaries',
    description: 'Feature "Group reporting data collection", story "Flexible upload template"',
    version: '0.3.0',
    sender: 'Subsidiary_SFTP',
    receiver: 'S4HANA',
    parameters: { SftpDirectory: '/inbound/group-reporting', FileMask: '*.csv' },
  },
  {
    id: 'Dunning_Email_Output',
    name: 'Dunning letters by e-mail',
    description: 'Feature "Dunning by e-mail", story "Output management for dunning"',
    version: '0.1.0',
    sender: 'S4HANA',
    receiver: 'Mail',
    parameters: { MailServer: 'smtp.example.invalid:587', From: 'dunning@example.invalid' },
  },
];

const SUCCESSFACTORS: DemoArtifact[] = [
  {
    id: 'SF_Employee_Replication',
    name: 'Employee replication SuccessFactors to S/4HANA',
    description: 'Project "SuccessFactors Rollout": employee master data replication',
    version: '1.2.0',
    sender: 'SuccessFactors',
    receiver: 'S4HANA',
    parameters: { SFCompanyId: 'SFPART000123', ReplicationInterval: '60' },
    runtime: { status: 'STARTED' },
  },
];

/**
 * A Cloud Integration tenant that matches the demo projects: one package per project with the
 * flows their features need, some deployed (one in ERROR). Idempotent.
 */
export async function seedCpiDemo(ctx: SandboxContext): Promise<void> {
  const db = cpiDb(ctx);
  const existing = await db
    .selectFrom('cpi_packages')
    .select('id')
    .where('id', '=', 'S4HANAFinanceTransformation')
    .executeTakeFirst();
  if (existing) return;
  const at = Date.parse('2026-03-02T09:00:00Z');
  await db.transaction().execute(async (trx) => {
    for (const [pkg, artifacts] of [
      [
        {
          id: 'S4HANAFinanceTransformation',
          name: 'S/4HANA Finance Transformation',
          description:
            'Integrations of the finance transformation project: bank, tax, intercompany, group reporting.',
          short: 'Finance integrations',
          lob: 'Finance',
        },
        FINANCE,
      ],
      [
        {
          id: 'SuccessFactorsRollout',
          name: 'SuccessFactors Rollout',
          description: 'Employee data replication between SuccessFactors and S/4HANA.',
          short: 'SuccessFactors integrations',
          lob: 'Human Resources',
        },
        SUCCESSFACTORS,
      ],
    ] as const) {
      await trx
        .insertInto('cpi_packages')
        .values({
          id: pkg.id,
          name: pkg.name,
          description: pkg.description,
          short_text: pkg.short,
          version: '1.0.0',
          vendor: 'calmhub demo',
          mode: 'EDIT_ALLOWED',
          supported_platform: 'SAP Cloud Integration',
          products: 'SAP S/4HANA Cloud',
          keywords: 'demo',
          countries: 'DE',
          industries: '',
          line_of_business: pkg.lob,
          created_by: 'sandbox-seed',
          creation_date: at,
          modified_by: null,
          modified_date: null,
        })
        .execute();
      for (const artifact of artifacts) {
        const zip = buildIflowZip({
          id: artifact.id,
          name: artifact.name,
          version: artifact.version,
          parameters: artifact.parameters,
        });
        await trx
          .insertInto('cpi_artifacts')
          .values({
            id: artifact.id,
            package_id: pkg.id,
            name: artifact.name,
            description: artifact.description,
            version: artifact.version,
            content: Buffer.from(zip).toString('base64'),
            sender: artifact.sender,
            receiver: artifact.receiver,
            created_by: 'sandbox-seed',
            created_at: at,
            modified_by: null,
            modified_at: null,
            fail_deploy_message: null,
            fail_deploy_version: null,
          })
          .execute();
        const parameters = Object.entries(artifact.parameters).map(([key, value]) => ({
          artifact_id: artifact.id,
          parameter_key: key,
          parameter_value: value,
          data_type: 'xsd:string',
        }));
        if (parameters.length > 0) await trx.insertInto('cpi_configurations').values(parameters).execute();
        if (artifact.runtime) {
          await trx
            .insertInto('cpi_runtime_artifacts')
            .values({
              id: artifact.id,
              version: artifact.version,
              name: artifact.name,
              type: 'INTEGRATION_FLOW',
              deployed_by: 'sandbox-seed',
              deployed_on: at,
              status: artifact.runtime.status,
              error_information: artifact.runtime.error ?? null,
              task_id: null,
            })
            .execute();
        }
      }
    }
  });
}
