"""Fakes of what lives outside the process, as real HTTP servers on loopback.

LLM providers: `tests.fakes.llm` (scripted Anthropic and OpenAI APIs), served by `tests.fakes.loopback`
(uvicorn in a background thread), with fixtures in `tests.fakes.fixtures`; `tests.fakes.events` records
realtime events. WhatsApp: `tests.fakes.graph_api`.
"""
