"""billbot core: message types, conversation engine, NLU, config, CLI and composition root."""
