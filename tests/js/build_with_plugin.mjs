// Builds tests' small Node app (src/app.js in the working directory) into dist/ with one bundler
// and its Sentry plugin, which uploads the source maps to the tracker on its own:
//   node build_with_plugin.mjs rollup|vite|webpack
// The plugin reads TRACKER_URL, TRACKER_TOKEN and RELEASE. Minified, with source maps;
// @sentry/node stays outside the bundle (it comes from NODE_PATH when the app runs).
import path from "node:path";

const bundler = process.argv[2];
const cwd = process.cwd();
const entry = path.join(cwd, "src", "app.js");
const outDir = path.join(cwd, "dist");
const pluginOptions = {
  url: process.env.TRACKER_URL,
  authToken: process.env.TRACKER_TOKEN,
  org: "bugsink",
  project: "demo",
  telemetry: false,
  release: { name: process.env.RELEASE },
};

async function rollup() {
  const { rollup } = await import("rollup");
  const terser = (await import("@rollup/plugin-terser")).default;
  const { sentryRollupPlugin } = await import("@sentry/rollup-plugin");
  const bundle = await rollup({
    input: entry,
    external: ["@sentry/node"],
    plugins: [sentryRollupPlugin(pluginOptions)],
  });
  await bundle.write({ file: path.join(outDir, "app.js"), format: "cjs", sourcemap: true, plugins: [terser()] });
  await bundle.close();
}

async function vite() {
  const { build } = await import("vite");
  const { sentryVitePlugin } = await import("@sentry/vite-plugin");
  await build({
    root: cwd,
    configFile: false,
    logLevel: "warn",
    plugins: [sentryVitePlugin(pluginOptions)],
    build: {
      ssr: entry,
      outDir,
      minify: true,
      sourcemap: true,
      rolldownOptions: {
        external: ["@sentry/node"],
        output: { format: "cjs", entryFileNames: "app.js" },
      },
    },
  });
}

async function webpack() {
  const webpack = (await import("webpack")).default;
  const { sentryWebpackPlugin } = await import("@sentry/webpack-plugin");
  const stats = await new Promise((resolve, reject) =>
    webpack(
      {
        mode: "production",
        target: "node",
        entry,
        devtool: "source-map",
        externals: { "@sentry/node": "commonjs @sentry/node" },
        output: { path: outDir, filename: "app.js" },
        plugins: [sentryWebpackPlugin(pluginOptions)],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    ),
  );
  if (stats.hasErrors()) throw new Error(stats.toString("errors-only"));
}

const builders = { rollup, vite, webpack };
if (!builders[bundler]) {
  console.error(`unknown bundler ${bundler}`);
  process.exit(2);
}
builders[bundler]().then(
  () => console.log("built"),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
