"""Small local language models: the Protocol, a fake, the llama-cpp-python adapter and how
the configured model is found and verified."""
