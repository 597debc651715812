// The registry-name rule on its own, so the CLI's `--registry` check does not load the x-cmesh reader (and zod) at start.

/** A registry host[:port][/path] as it prefixes an image reference: no scheme, no tag, no digest. */
export const REGISTRY = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
