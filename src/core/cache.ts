// kit's cache folder: components, transpiled components, the chain's state, view-api output,
// logs. The book names /tmp/hyperdrive-kit-cache; KIT_CACHE moves it.

export const KIT_CACHE = process.env.KIT_CACHE ?? '/tmp/hyperdrive-kit-cache';
