// compose plugin for Qwen Code, in plain JavaScript (componentize-js), built for interface 0.1.0:
// a third party needs nothing but the interface's WIT file. Qwen Code is a fork of Gemini CLI: its
// login and settings live in ~/.qwen (oauth_creds.json, settings.json), it reads QWEN.md, and
// speaks ACP with --experimental-acp.

export const cliPlugin = {
  info() {
    return {
      name: "qwen",
      version: "0.1.0",
      summary: "Qwen Code in ACP mode (a JavaScript plugin)",
      commands: ["qwen"],
    };
  },

  // Returns the defaults; throwing a list of diagnostics returns the `err` case.
  defaults(agentJson) {
    const agent = JSON.parse(agentJson);
    if (agent.env && agent.env.OPENAI_API_KEY === "") {
      throw [{ path: "env.OPENAI_API_KEY", message: "is empty; remove it or give a key in secretEnv" }];
    }
    return {
      image: "ghcr.io/thepagent/agent-broker-qwen",
      command: "qwen",
      args: ["--experimental-acp"],
      home: "/home/agent",
      persist: [{ path: ".qwen", kind: "directory" }],
      disposable: [".qwen/tmp"],
      instructionFiles: ["QWEN.md"],
      loginCommand: "NO_BROWSER=true qwen",
      env: [["NO_BROWSER", "true"]],
      warnings: [],
    };
  },
};
