/**
 * How a team installs a release of this package: the commands the README's Install section
 * shows in their hosted form (github.com/OWNER/pulumi-kind-dev, OWNER standing for the owner of
 * package.json's `repository`), and the consumer tests run with a local git host in its place
 * (test/support/gitHost.ts). test/unit/docs.test.ts checks that the README shows exactly
 * these commands for package.json's version.
 */
export const OWNER = "OWNER";
export const REPO_NAME = "pulumi-kind-dev";

/** Where the release lives when hosted. */
export const HOSTED = {
  /** The git URL npm clones (package.json's `repository` is `git+` this). */
  gitUrl: `https://github.com/${OWNER}/${REPO_NAME}.git`,
  /** The host `pulumi package add` clones from over HTTPS. */
  host: "github.com",
} as const;

/**
 * What the team's `.npmrc` says so that npm 12, which fetches no git dependency unless allowed,
 * installs this one, moves it to another tag, and installs it again in a teammate's `npm ci`.
 * Not `root` (only those package.json names): npm 11.19 and 12.2 then refuse to move it to
 * another tag, and npm 11.9 to 11.12 refuse even its first install.
 */
export const NPMRC_ALLOW_GIT = "allow-git=all";

/** The README's command that adds NPMRC_ALLOW_GIT to the project's `.npmrc`. */
export const ALLOW_GIT_COMMAND = `echo "${NPMRC_ALLOW_GIT}" >> .npmrc`;

/** `npm install` of the tag from a git URL (npm runs the package's `prepare`: the build). */
export function npmInstallArgs(gitUrl: string, tag: string): string[] {
  return ["install", `git+${gitUrl}#${tag}`];
}

/** `pulumi package add` of the component provider (`provider/`) at the tag. */
export function packageAddArgs(host: string, tag: string): string[] {
  return ["package", "add", `${host}/${OWNER}/${REPO_NAME}.git/provider@${tag}`];
}

/** What Pulumi records under `packages:` for packageAddArgs(host, tag). */
export function recordedPackage(host: string, tag: string): string {
  return `${host}/${OWNER}/${REPO_NAME}.git/provider@${tag}`;
}

/** A command line as the README shows it. */
export function commandLine(file: string, args: readonly string[]): string {
  return [file, ...args].join(" ");
}
