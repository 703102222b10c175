"""The agent runtime: one loop for both agents, generic over an LLM provider and an MCP client session.

`messages` (turns, tool calls, completions), `providers` (the `LLMProvider` port, retries),
`anthropic_messages` and `openai_chat` (the two providers), `loop` (`AgentLoop`), `sessions` (MCP session
factories), `conversation` (which conversation a task answers), `acting` (whom the system agent's turn acts for),
`reach` (the tools that person is given), `turns` (`ConversationTurn`, an `AgentTurn`) and `agents` (the system
agent, the customer assistant, and `build_provider`).
"""
