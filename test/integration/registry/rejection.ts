// The error a promise rejects with, typed loosely for assertions on name/status/message;
// fails the test when the promise resolves instead.
export async function rejection(
  p: Promise<unknown>,
): Promise<Error & { status?: number; codes?: string[]; temporary?: boolean }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { status?: number; codes?: string[]; temporary?: boolean };
  }
  throw new Error('expected a rejection, got a result');
}
