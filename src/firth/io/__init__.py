"""Writing files safely and storing models as JSON + safetensors directories."""
