// A fake of AWS Secrets Manager's JSON API (awsJson1_1), only GetSecretValue, for tests: no
// Secrets Manager emulator is installable here, so the real @aws-sdk/client-secrets-manager
// is pointed at this server (AWS_ENDPOINT_URL_SECRETS_MANAGER), the way ecr-fake.ts fronts
// ECR. Each call takes the next scripted answer, then answers `secrets` by SecretId.
//
//   const sm = await startSecretsManagerFake({ 'catalog-build/token': 'basic abc' });
//   sm.answers.push({ status: 429, type: 'ThrottlingException' }, 'reset');
//   sm.calls            number of GetSecretValue calls
//   await sm.stop()
import http from 'node:http';
import { listenOnLoopback } from './loopback-server.js';

/** An error answer (status and `__type`), or 'reset' to drop the connection unanswered. */
export type SecretsAnswer = { status: number; type: string } | 'reset';

export interface SecretsManagerFake {
  endpoint: string;
  calls: number;
  /** Answers given before any secret, one per call. */
  answers: SecretsAnswer[];
  stop(): Promise<void>;
}

export async function startSecretsManagerFake(
  secrets: Readonly<Record<string, string>>,
): Promise<SecretsManagerFake> {
  const state = { calls: 0, answers: [] as SecretsAnswer[] };
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (target !== 'secretsmanager.GetSecretValue') {
        json(res, 400, { __type: 'InvalidRequestException', message: `unsupported ${target}` });
        return;
      }
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) {
        json(res, 403, { __type: 'UnrecognizedClientException', message: 'unsigned request' });
        return;
      }
      state.calls++;
      const answer = state.answers.shift();
      if (answer === 'reset') {
        req.socket.destroy();
        return;
      }
      if (answer) {
        json(res, answer.status, { __type: answer.type, message: `scripted ${answer.type}` });
        return;
      }
      const id = String(JSON.parse(Buffer.concat(chunks).toString('utf8')).SecretId);
      const value = secrets[id];
      if (value === undefined) {
        json(res, 400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
        return;
      }
      json(res, 200, {
        ARN: `arn:aws:secretsmanager:us-east-1:0:secret:${id}`,
        Name: id,
        SecretString: value,
      });
    });
  });
  const { port, close } = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get calls() {
      return state.calls;
    },
    set calls(n: number) {
      state.calls = n;
    },
    get answers() {
      return state.answers;
    },
    set answers(a: SecretsAnswer[]) {
      state.answers = a;
    },
    stop: close,
  };
}
