// Confirmation for commands that change or delete much: a y/N question on a terminal; elsewhere (scripts, CI)
// the command refuses and says to pass --yes, rather than waiting on an input nobody will type.
export async function confirmOrRefuse(question: string, refusal: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) throw new Error(`${refusal}: run it with --yes to confirm (standard input is not a terminal to ask on)`);
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    return answer === 'y' || answer === 'yes';
  } finally {
    rl.close();
  }
}

/** All of standard input, as text (a password or value given with --…-stdin or `-`). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
