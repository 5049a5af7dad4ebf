/** bgprobe's version; a test keeps it equal to package.json's (read at run time it would cost start-up). */
export const VERSION = '0.1.0';
export const USER_AGENT = `bgprobe/${VERSION}`;
