// A value made on its first use and kept. For what a module would otherwise make when it loads,
// at every start of every command, whether or not the command needs it: zod schemas above all
// (about 20 µs each to make: their traits, and a clone per check).
export function lazily<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}
