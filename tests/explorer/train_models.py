"""CTest fixture: trains the small models the explorer's tests explore. Usage: train_models.py BUILD_DIR"""
import harness

harness.train_models()
print("trained the explorer's test models into", harness.MODELS)
