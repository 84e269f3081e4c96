/** A package name: not a relative or absolute path, not a URL, not a `node:` built-in. */
export const isBareSpecifier = (specifier: string): boolean => !/^(\.{0,2}\/|[a-z][a-z0-9+.-]*:)/i.test(specifier) && !specifier.startsWith('/');
